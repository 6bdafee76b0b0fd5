"""`assistant` command line: parse, call one `Assistant` method, print. No logic lives here."""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path

import click
from tqdm import tqdm

from .config import Settings
from .errors import AssistantError


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _assistant(ctx: click.Context):
    from .service import Assistant

    if "assistant" not in ctx.obj:
        try:
            ctx.obj["assistant"] = Assistant(_settings(ctx))
        except AssistantError as exc:
            raise click.ClickException(exc.message) from exc
    return ctx.obj["assistant"]


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


class _Bars:
    """One tqdm bar per stage, on stderr so --json output stays clean."""

    def __init__(self):
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(
                total=total,
                desc=stage,
                unit="块" if stage == "嵌入向量" else "个",
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self):
        for bar in self.bars.values():
            bar.close()


def _guard(fn):
    """AssistantError → a Chinese message and exit code 1, never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AssistantError as exc:
            raise click.ClickException(exc.message) from exc

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="输出调试日志。")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """政策问答助手：基于政策文件的问答，答案逐句标注出处。

    示例：assistant ask "哪个社区推行了碧·有服务？"
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        ctx.obj = {"settings": Settings()}
    except Exception as exc:  # pydantic ValidationError: a bad ASSISTANT_* value
        raise click.ClickException(f"配置错误：{exc}") from exc


@main.command()
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(path_type=Path),
    help="文档目录（默认 ASSISTANT_CORPUS_DIR 或 corpus/）。",
)
@click.option("--rebuild", is_flag=True, help="丢弃现有索引，从头重建。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")
@click.pass_context
@_guard
def index(ctx, corpus_dir, rebuild, as_json):
    """把 corpus/ 中新增或修改的文档编入索引（增量，显示进度）。

    示例：assistant index --corpus corpus/
    """
    corpus_dir = corpus_dir or _settings(ctx).corpus_dir
    if not Path(corpus_dir).is_dir():
        raise click.ClickException(f"语料目录不存在：{corpus_dir}。请用 --corpus 指定包含文档的目录。")
    bars = _Bars()
    try:
        report = _assistant(ctx).sync(corpus_dir, rebuild=rebuild, progress=bars)
    finally:
        bars.close()
    if report.added or report.removed or report.rebuilt:  # serve then starts from it, not from every chunk
        _assistant(ctx).save_snapshot()
    if as_json:
        _echo_json(report.to_dict())
        return
    stats = _assistant(ctx).store.stats()
    click.echo(
        f"新增 {len(report.added)} 篇，移除 {len(report.removed)} 篇，未变 {report.unchanged} 篇"
        f"{'（已重建）' if report.rebuilt else ''}；索引共 {stats['documents']} 篇文档、{stats['chunks']} 个片段；"
        f"用时 {report.seconds:.1f} 秒。"
    )
    for file, error in report.failed:
        click.echo(f"跳过 {file}：{error}", err=True)


@main.command()
@click.argument("question")
@click.option("--top-k", default=5, show_default=True, type=int, help="检索的片段数（1–20）。")
@click.option("--json", "as_json", is_flag=True, help="输出与 POST /api/ask 相同的 JSON。")
@click.pass_context
@_guard
def ask(ctx, question, top_k, as_json):
    """回答一个问题，附编号引用。

    示例：assistant ask "青龙山街道是哪一天挂牌成立的？"
    """
    from .sources import references_block

    assistant = _assistant(ctx)
    if as_json:
        _echo_json(assistant.ask(question, top_k=top_k).to_dict())
        return
    result = None
    for piece in assistant.ask_stream(question, top_k=top_k):
        if isinstance(piece, str):
            click.echo(piece, nl=False)
        else:
            result = piece
    click.echo()
    if result.warning:
        click.echo(f"注意：{result.warning}", err=True)
    if result.citations:  # each source named as the chat names it: title, place, date
        click.echo("\n" + references_block(result.citations, assistant.snapshot.documents))


@main.command()
@click.argument("query")
@click.option("--top-k", default=5, show_default=True, type=int, help="返回的片段数（1–20）。")
@click.option("--json", "as_json", is_flag=True, help="输出与 POST /api/search 相同的 JSON。")
@click.pass_context
@_guard
def search(ctx, query, top_k, as_json):
    """只检索，不生成答案。

    示例：assistant search "网格化管理"
    """
    hits = _assistant(ctx).search(query, top_k=top_k)
    if as_json:
        _echo_json({"hits": [h.to_dict() for h in hits]})
        return
    for i, h in enumerate(hits, start=1):
        click.echo(f"{i}. [{h.score:.3f}] 《{h.doc.title}》 {h.chunk.chunk_id}\n   {h.text[:160]}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="工作进程数：每个进程各自加载索引和嵌入模型，共用同一索引目录，问答可用满多个 CPU 核。",
)
@click.pass_context
@_guard
def serve(ctx, host, port, workers):
    """启动 API 与网页界面。

    示例：assistant serve --port 8000，然后打开 http://127.0.0.1:8000；多核：assistant serve --workers 2
    """
    import uvicorn

    from .http.app import create_app
    from .http.server import uvicorn_options

    logging.getLogger().setLevel(logging.INFO)
    if workers > 1:  # each worker builds its Assistant from the same settings (assistant/workers.py)
        options = uvicorn_options(_settings(ctx))
        options["http"] = "assistant.workers:HeaderDeadlineProtocol"  # spawned workers import it by name
        click.echo(
            f"政策问答助手已启动（{workers} 个工作进程）：http://{host}:{port}/ （API 文档 /docs）", err=True
        )
        uvicorn.run(
            "assistant.workers:app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="warning",
            **options,
        )
        return
    assistant = _assistant(ctx)
    app = create_app(assistant)
    threading.Thread(target=assistant.warm_up, name="warm-up", daemon=True).start()
    click.echo(f"政策问答助手已启动：http://{host}:{port}/ （API 文档 /docs）", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", **uvicorn_options(assistant.settings))


def _corpus_assistant(ctx: click.Context, corpus_dir: Path, index_dir: Path, quiet: bool):
    """An Assistant over another corpus (for eval and fit), its index brought up to date with progress bars."""
    from .service import Assistant

    if not corpus_dir.is_dir():
        raise click.ClickException(f"语料目录不存在：{corpus_dir}。")
    # its own embedded database: another corpus must never be written into a shared one (ASSISTANT_DATABASE_URL)
    assistant = Assistant(
        _settings(ctx).model_copy(
            update={"corpus_dir": corpus_dir, "index_dir": index_dir, "database_url": ""}
        )
    )
    bars = _Bars()
    try:
        assistant.sync(corpus_dir, progress=None if quiet else bars)
    finally:
        bars.close()
    return assistant


class _QuestionBar:
    """A tqdm bar over questions whose `update(done, total)` is the progress callback of eval and fit."""

    def __init__(self, desc: str, quiet: bool):
        self.bar = tqdm(desc=desc, unit="题", file=sys.stderr, disable=quiet)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()

    def update(self, done: int, total: int) -> None:
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()


@main.command(name="eval")
@click.argument("gold", type=click.Path(path_type=Path))
@click.option("--top-k", default=5, show_default=True, type=int)
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="在另一个语料目录上评测：先为它建一个临时索引（不影响当前索引）。",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="与 --corpus 同用：把该语料的索引保存在此目录，下次复用（只嵌入新增文档）。",
)
@click.option("--json", "as_json", is_flag=True, help="输出完整 JSON 报告（含逐题结果）。")
@click.pass_context
@_guard
def eval_cmd(ctx, gold, top_k, corpus_dir, index_dir, as_json):
    """在评测集上打分：dev.jsonl 格式（evidence/must_include）或 qa.jsonl 格式（answers/answerable）。

    示例：assistant eval eval/dev.jsonl；assistant eval qa.jsonl --corpus 新闻语料/
    """
    import tempfile

    from .evaluation import evaluate, format_table

    if not gold.is_file():
        raise click.ClickException(f"评测文件不存在：{gold}。")
    if index_dir and not corpus_dir:
        raise click.ClickException("--index 需要与 --corpus 一起使用。")
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        assistant = (
            _corpus_assistant(ctx, corpus_dir, index_dir or Path(tmp) / "index", as_json)
            if corpus_dir
            else _assistant(ctx)
        )
        with _QuestionBar("评测", as_json) as bar:
            report = evaluate(assistant, gold, top_k=top_k, progress=bar.update)
    if as_json:
        _echo_json(report)
    else:
        click.echo(format_table(report))


@main.command()
@click.argument("golds", nargs=-1, required=True)
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), help="把拟合的回答模型写到此文件（JSON）。"
)
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20), help="交叉验证折数。")
@click.option("--top-k", default=5, show_default=True, type=int)
@click.option(
    "--index-root",
    type=click.Path(path_type=Path, file_okay=False),
    help="GOLD=语料目录 时，把该语料的索引保存在此目录下，下次复用。",
)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 报告。")
@click.pass_context
@_guard
def fit(ctx, golds, out, folds, top_k, index_root, as_json):
    """拟合回答模型（句子打分、置信度、拒答阈值），并报告样本内与交叉验证（out-of-fold）指标。

    GOLD 为评测文件（dev.jsonl 或 qa.jsonl 格式），在当前索引上评；写成 GOLD=语料目录 则在该语料的临时索引上评。
    示例：assistant fit 我的题目.jsonl --out answer_model.json，然后设置 ASSISTANT_ANSWER_MODEL=answer_model.json。
    """
    import tempfile

    from .answer import fit as fitting
    from .evaluation import load_gold

    cases = []
    with tempfile.TemporaryDirectory(prefix="assistant-fit-") as tmp:
        for spec in golds:
            gold, _, corpus_dir = spec.partition("=")
            gold_path = Path(gold)
            if not gold_path.is_file():
                raise click.ClickException(f"评测文件不存在：{gold_path}。")
            if corpus_dir:
                corpus = Path(corpus_dir)
                root = Path(index_root) if index_root else Path(tmp)
                assistant = _corpus_assistant(ctx, corpus, root / f"index-{corpus.resolve().name}", as_json)
            else:
                assistant = _assistant(ctx)
            with _QuestionBar(f"检索 {gold_path.name}", as_json) as bar:
                cases += fitting.collect(assistant, load_gold(gold_path), gold_path.stem, top_k, bar.update)
        model = fitting.fit(cases)
        result = fitting.report(cases, model, fitting.cross_validate(cases, folds))
    model.fitted = {"sets": result, "folds": folds, "top_k": top_k}
    if out:
        model.save(out)
    if as_json:
        _echo_json({"model": json.loads(model.to_json()), "report": result})
        return
    click.echo(fitting.format_report(result))
    click.echo(f"阈值 threshold={model.threshold}  support_ratio={model.support_ratio}")
    if out:
        click.echo(f"已写入 {out}；设置 ASSISTANT_ANSWER_MODEL={out} 后生效。")


@main.command()
@click.argument("topic")
@click.option("--topic", "extra_topics", multiple=True, help="再加一个主题（可重复，合计最多 10 个）。")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="输出文件，按扩展名导出：.docx（Word/WPS）、.md 或 .json。",
)
@click.option("--no-summary", is_flag=True, help="大模型模式下不生成各类别的要点小结。")
@click.option(
    "--max-items",
    type=int,
    default=None,
    help="每个主题最多几条素材（默认 25，按相关程度取前若干条；1–100）。",
)
@click.pass_context
@_guard
def coursepack(ctx, topic, extra_topics, out, no_summary, max_items):
    """按主题汇编带出处的课程素材：典型案例、数据成效、工作举措，逐条标注原文出处。

    示例：assistant coursepack "网格化管理" --topic "物业党建" --out 课程素材.docx
    """
    from .coursepack import FORMATS
    from .coursepack_render import export, notes

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise click.ClickException(
            f"不支持的输出格式“{out.suffix or '无扩展名'}”：--out 的文件名请以 .docx、.md 或 .json 结尾。"
        )
    if not out.parent.is_dir():
        raise click.ClickException(f"输出目录不存在：{out.parent}。请先创建该目录或换一个路径。")
    pack = _assistant(ctx).course_pack([topic, *extra_topics], summaries=not no_summary, max_items=max_items)
    data = export(pack, fmt).data
    tmp = out.with_name(out.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise click.ClickException(f"无法写入 {out}：{exc.strerror}。") from exc
    for note in notes(pack):
        click.echo(f"注意：{note}", err=True)
    counts = "、".join(f"{s.kind} {len(s.items)}" for s in pack.by_kind())
    click.echo(
        f"已生成课程素材 {out}：共 {len(pack.items)} 条（{counts}），摘自 {len(pack.references)} 篇文档，"
        f"{len(data) / 1024:.1f} KB。"
    )


@main.group()
def docs():
    """管理文档：list / add / remove。"""


@docs.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@_guard
def docs_list(ctx, as_json):
    """列出已编入索引的文档。"""
    documents = _assistant(ctx).documents()
    if as_json:
        _echo_json({"documents": documents})
        return
    for d in documents:
        click.echo(f"{d['doc_id']}  {d['chunks']:>3} 片段  {d['chars']:>6} 字  {d['title']}  ({d['source']})")
    click.echo(f"共 {len(documents)} 篇。")


@docs.command(name="add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--title", help="标题（仅当添加单个文件时）。")
@click.pass_context
def docs_add(ctx, paths, title):
    """添加文档：复制到 corpus/ 并编入索引。

    示例：assistant docs add 报告.docx 通知.pdf
    """
    assistant = _assistant(ctx)
    failures = 0
    for path in paths:
        try:
            if not path.is_file():
                raise AssistantError(f"文件不存在或不可读：{path}。")
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise AssistantError(f"无法读取 {path}：{exc.strerror}。") from exc
            meta = {"source": path.name}
            if title and len(paths) == 1:
                meta["title"] = title
            with tqdm(desc=f"嵌入 {path.name}", unit="块", file=sys.stderr) as bar:

                def progress(done, total):
                    bar.total = total
                    bar.n = done
                    bar.refresh()

                entry = assistant.add_document(path.name, data, meta, progress=progress)
            click.echo(f"已添加 {entry['doc_id']}  《{entry['title']}》  {entry['chunks']} 个片段")
        except AssistantError as exc:
            failures += 1
            click.echo(f"错误：{path}：{exc.message}", err=True)
    if failures:
        sys.exit(1)


@docs.command(name="remove")
@click.argument("doc_id")
@click.pass_context
@_guard
def docs_remove(ctx, doc_id):
    """从 corpus/ 和索引中删除一篇文档。

    示例：assistant docs remove 0123456789abcdef
    """
    doc = _assistant(ctx).document(doc_id)
    _assistant(ctx).remove_document(doc_id)
    click.echo(f"已删除 {doc_id}  《{doc.title}》")


if __name__ == "__main__":
    main()
