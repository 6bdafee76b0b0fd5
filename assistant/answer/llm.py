"""LLM answers: numbered passages in, fluent Chinese with [n] out, every citation verified before it counts.

The model writes; we check. Markers pointing to passages that were not given are dropped and the rest
renumbered as the text streams; each citation's quote is the sentence of its chunk that best supports the
answer sentence citing it, so `quote == text[start:end]` holds exactly as in extractive mode. An answer with no
valid citation, or one the model marks 资料中未找到, is not grounded. Any endpoint failure (down, timeout,
5xx, a broken or empty stream) is logged and answered extractively with a `warning`: never an outage.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import LLMFailure
from ..lexical import normalise, words
from ..prompts import load_prompt, render_prompt
from ..punctuation import END_MARKS, SENTENCE_END, TRAILING_PUNCTUATION
from ..retrieval import Hit, Snapshot
from .citations import (
    MARKER_GROUP,
    REFUSAL_PREFIX,
    Answer,
    Citation,
    nearest_passages_note,
    pieces,
    renumber_markers,
)
from .sanitize import strip_markup

log = logging.getLogger(__name__)

HEALTH_TTL_S = 5.0  # /healthz asks the endpoint at most this often
RETRY_AFTER_FAILURE_S = (
    5.0  # after a failed call, questions skip the endpoint this long (no pile-up of timeouts)
)
HEALTH_TIMEOUT_S = 2.0
HISTORY_TURNS = 6  # prior turns shown to the model
HISTORY_TURN_CHARS = 400
MAX_REWRITE_CHARS = 300
# an unfinished citation group (or whitespace that may precede one) at the end of the text seen so far
_PARTIAL_MARKER = re.compile(r"\s*(?:[\[【][\s\d,，、;；^资料段落来源文献]{0,12})?$")
_CLAIM_END = re.compile(f"[{END_MARKS}；;\n]")  # a claim may end at a semicolon too
_REFERENCES = re.compile(r"\n+\s*参考资料[:：].*$", re.S)
_FALLBACK_NOTICE = "\n\n（大模型输出中断，以下改为摘录式回答。）\n\n"


# ---------------------------------------------------------------- passages and prompts


@dataclass
class Passage:
    """What the model sees as `[n]`: a whole-sentence window of one retrieved chunk."""

    n: int
    hit: Hit
    spans: list[tuple[int, int]]  # the sentences given, absolute offsets in the document

    @property
    def text(self) -> str:
        return self.hit.doc.text[self.spans[0][0] : self.spans[-1][1]]


def build_passages(hits: list[Hit], snapshot: Snapshot, budget: int, query: str) -> list[Passage]:
    """Number the hits as passages, trimmed by whole sentences so their text fits `budget` characters.

    If everything fits, every chunk goes in whole. Otherwise each passage first gets an equal share (its most
    query-relevant run of sentences that fits), then what is left over extends passages in rank order.
    """
    units = [(hit, snapshot.sentences_in(hit.chunk) or [(hit.chunk.start, hit.chunk.end)]) for hit in hits]
    if sum(spans[-1][1] - spans[0][0] for _, spans in units) <= budget:
        windows = [spans for _, spans in units]
    else:
        terms = _weighted_terms(query, snapshot)
        relevance = [[_coverage(terms, hit.doc.text[s:e]) for s, e in spans] for hit, spans in units]
        share = budget // max(1, len(units))
        windows = [_best_window(spans, rel, share) for (_, spans), rel in zip(units, relevance)]
        left = budget - sum(_length(w) for w in windows)
        for i, ((_, spans), rel) in enumerate(zip(units, relevance)):
            grown = _best_window(spans, rel, _length(windows[i]) + left)
            left -= _length(grown) - _length(windows[i])
            windows[i] = grown
    passages = []
    for (hit, _), window in zip(units, windows):
        if window:
            passages.append(Passage(len(passages) + 1, hit, window))
    return passages


def _length(window: list[tuple[int, int]]) -> int:
    return window[-1][1] - window[0][0] if window else 0


def _best_window(spans: list[tuple[int, int]], relevance: list[float], cap: int) -> list[tuple[int, int]]:
    """The contiguous run of whole sentences within `cap` characters that is most relevant (then longest)."""
    best, best_key = [], None
    for i in range(len(spans)):
        for j in range(i, len(spans)):
            length = spans[j][1] - spans[i][0]
            if length > cap:
                break
            key = (round(sum(relevance[i : j + 1]), 6), length, -i)
            if best_key is None or key > best_key:
                best, best_key = spans[i : j + 1], key
    return best


def format_passages(passages: list[Passage]) -> str:
    blocks = []
    for p in passages:
        body = re.sub(r"\s*\n\s*", "\n", p.text.strip())
        blocks.append(f"[{p.n}] 《{p.hit.doc.title}》\n{body}")
    return "\n\n".join(blocks)


def clean_history(history: list[dict]) -> list[dict]:
    """Recent turns only; old answers lose their [n] markers and 参考资料 (those numbers meant other passages)."""
    out = []
    for turn in history[-HISTORY_TURNS:]:
        content = turn["content"]
        if turn["role"] == "assistant":
            content = MARKER_GROUP.sub("", _REFERENCES.sub("", content))
        content = content.strip()[:HISTORY_TURN_CHARS]
        if content:
            out.append({"role": turn["role"], "content": content})
    return out


def answer_messages(question: str, history: list[dict], passages: list[Passage]) -> list[tuple[str, str]]:
    """System prompt, the conversation so far, then the numbered passages with the question."""
    messages = [("system", load_prompt("system"))]
    messages += [("human" if t["role"] == "user" else "ai", t["content"]) for t in clean_history(history)]
    messages.append(("human", render_prompt("answer", passages=format_passages(passages), question=question)))
    return messages


def rewrite_messages(question: str, history: list[dict]) -> list[tuple[str, str]]:
    lines = [
        f"{'用户' if t['role'] == 'user' else '助手'}：{t['content']}".replace("\n", " ")
        for t in clean_history(history)
    ]
    return [("human", render_prompt("query_rewrite", history="\n".join(lines), question=question))]


def parse_rewrite(text: str, question: str) -> str:
    """The first non-empty line, without labels or quotes; the original question if nothing usable."""
    for line in (text or "").splitlines():
        line = re.sub(r"^\s*(改写后的问题|问题|改写)\s*[:：]\s*", "", line).strip().strip("“”\"'「」")
        if line:
            return line[:MAX_REWRITE_CHARS]
    return question


# ---------------------------------------------------------------- streaming verification


class VerifiedStream:
    """Turns streamed model text into verified text, released sentence by sentence.

    A sentence (up to 。！？!? or a line break, with the citation group that may follow its punctuation) is
    released only once it is complete and has at least one valid citation of its own (`[n]` of a given
    passage) that `supported(claim, passages)` accepts, or when it says 资料中未找到 (a refusal). Everything
    else — uncited prose, a made-up hotline, an injected instruction, a sentence citing only passages that were
    not given — is dropped, not delayed. Links, images, HTML and URLs are stripped first (`strip_markup`).
    Citation groups are renumbered in order of first use among released sentences; `text` is the released
    answer and `mapping` passage number → [n].
    """

    def __init__(self, given: int, supported=None):
        self.given = given
        self.supported = supported  # (claim text, cited passage numbers) -> bool; None accepts any citation
        self.mapping: dict[int, int] = {}
        self._pending = ""  # raw text not yet judged (an unfinished sentence)
        self._kept: list[str] = []
        self._released = 0  # characters of the verified text already handed out
        self.dropped: list[str] = []  # sentences left out (for logs and tests)

    @property
    def text(self) -> str:
        return "".join(self._kept).strip()

    @property
    def refused(self) -> bool:
        return REFUSAL_PREFIX in self.text

    def feed(self, raw: str) -> str:
        """Judge every sentence completed by `raw`; return the newly releasable text (maybe empty)."""
        self._pending += raw
        while (end := _sentence_end(self._pending)) is not None:
            sentence, self._pending = self._pending[:end], self._pending[end:]
            self._judge(sentence)
        return self._release()

    def close(self) -> str:
        """End of stream: the unfinished last sentence is judged as it is; returns the rest to release."""
        rest, self._pending = self._pending, ""
        rest = re.sub(r"[\[【][\s\d,，、;；^资料段落来源文献]*$", "", rest)  # a marker cut off by the end
        if rest.strip():
            self._judge(rest)
        return self._release()

    def _judge(self, sentence: str) -> None:
        clean = strip_markup(sentence)
        trial = dict(self.mapping)
        text = renumber_markers(clean, self.given, trial)
        cited = sorted({int(k) for g in MARKER_GROUP.findall(clean) for k in re.findall(r"\d+", g)})
        cited = [k for k in cited if 1 <= k <= self.given]
        claim = re.sub(r"\[\d+\]", "", text).strip()
        refusal = REFUSAL_PREFIX in text
        keep = bool(re.sub(r"[\W_]", "", claim)) and (
            refusal or (bool(cited) and (self.supported is None or self.supported(claim, cited)))
        )
        if not keep:
            if clean.strip():
                self.dropped.append(sentence.strip())
            return
        self.mapping = trial
        if not self._kept:
            text = text.lstrip()
        self._kept.append(text)

    def _release(self) -> str:
        text = self.text
        if not text.startswith(self.text[: self._released]):  # cannot happen: released text only grows
            return ""
        piece, self._released = text[self._released :], len(text)
        return piece


# ASCII ! and ? end a sentence only when no URL, query string or image syntax goes on right after them
_SENTENCE_STOP = re.compile(r"[。！？]+[!?]*|[!?]+(?=[\s。！？”’」』）)》\"'*_【]|$)|\n")
_CLOSERS = re.compile(r"[”’」』）)》\"'*_]*")
_GROUP_AT = re.compile(MARKER_GROUP.pattern)


def _sentence_end(text: str) -> int | None:
    """Where the first complete sentence of `text` ends (after its stop, closers and any citation groups
    right behind them), or None while that cannot be known yet (more text may still bring a marker)."""
    for m in _SENTENCE_STOP.finditer(text):
        if _inside_marker(text, m.start()):
            continue
        end = _CLOSERS.match(text, m.end()).end()
        cited_before_stop = MARKER_GROUP.search(text, 0, m.start()) is not None
        while (g := _GROUP_AT.match(text, end)) is not None:
            end = _CLOSERS.match(text, g.end()).end()
        rest = text[end:]
        if cited_before_stop and not rest.strip():
            return end  # "……[1]。": complete and cited, no need to wait for the next piece
        if not rest or _PARTIAL_MARKER.fullmatch(rest):  # a marker for this sentence may still be coming
            return None
        return end
    return None


def _inside_marker(text: str, pos: int) -> bool:
    opened = max(text.rfind("[", 0, pos), text.rfind("【", 0, pos))
    return (
        opened >= 0
        and max(text.rfind("]", opened, pos), text.rfind("】", opened, pos)) < 0
        and pos - opened < 16
    )


def claims(text: str) -> dict[int, list[str]]:
    """For each [n] in the verified text, the answer sentences citing it (markers removed)."""
    out: dict[int, list[str]] = {}
    for m in re.finditer(r"\[(\d+)\]", text):
        before = re.sub(r"(\[\d+\]|\s)+$", "", text[: m.start()])
        before = re.sub(f"[{END_MARKS}；;]$", "", before)
        starts = [e.end() for e in _CLAIM_END.finditer(before)]
        claim = before[starts[-1] :] if starts else before
        if len(re.sub(r"\W", "", claim)) < 4 and len(starts) >= 2:
            claim = before[starts[-2] :]  # "……[1]。另见[2]": borrow the sentence before
        claim = re.sub(r"\[\d+\]", "", claim).strip()
        out.setdefault(int(m.group(1)), []).append(claim)
    return out


def _weighted_terms(text: str, snapshot: Snapshot) -> dict[str, float]:
    return {t: snapshot.bm25.idf(t) for t in dict.fromkeys(words(text))}


def _coverage(terms: dict[str, float], text: str) -> float:
    total = sum(terms.values())
    if not total:
        return 0.0
    norm = normalise(text)
    return sum(w for t, w in terms.items() if t in norm) / total


def _bigrams(text: str) -> set[str]:
    norm = re.sub(r"\W", "", normalise(text))
    return {norm[i : i + 2] for i in range(len(norm) - 1)}


def support(claim: str, sentence: str, snapshot: Snapshot) -> float:
    """How well a document sentence backs an answer sentence: idf-weighted shared words, then shared bigrams."""
    return _supporter(claim, snapshot)(sentence)


def _supporter(claim: str, snapshot: Snapshot):
    """`support` with the claim's words and bigrams worked out once, for scoring many sentences."""
    terms, grams = _weighted_terms(claim, snapshot), _bigrams(claim)

    def score(sentence: str) -> float:
        shared = len(grams & _bigrams(sentence)) / len(grams) if grams else 0.0
        return 0.6 * _coverage(terms, sentence) + 0.4 * shared

    return score


def cite(passage: Passage, n: int, texts: list[str], snapshot: Snapshot) -> Citation:
    """Citation [n] of `passage`, quoting its given sentence that best supports any of `texts`."""
    doc_text = passage.hit.doc.text
    scorers = [_supporter(t, snapshot) for t in texts]
    span = max(passage.spans, key=lambda s: (max(f(doc_text[s[0] : s[1]]) for f in scorers), -s[0]))
    return Citation.from_hit(n, passage.hit, span)


MIN_SUPPORT = 0.12  # a cited sentence must share at least this much with a passage it cites (see `support`)


def supported_by(passages: list[Passage], snapshot: Snapshot):
    """The check a released sentence must pass: some sentence of a passage it cites backs it (`support` at
    least MIN_SUPPORT) — a real paraphrase shares names and terms; an injected instruction or a made-up
    hotline with a borrowed [n] shares almost nothing."""
    by_number = {p.n: p for p in passages}

    def check(claim: str, cited: list[int]) -> bool:
        score = _supporter(claim, snapshot)
        for k in cited:
            p = by_number.get(k)
            if p is None:
                continue
            text = p.hit.doc.text
            if max((score(text[s:e]) for s, e in p.spans), default=0.0) >= MIN_SUPPORT:
                return True
        return False

    return check


def nearest_passages(
    passages: list[Passage], question: str, snapshot: Snapshot, first_n: int, top_n: int = 3
) -> tuple[str, list[Citation]]:
    """The list a refusal ends with: the closest passages, numbered from `first_n`."""
    citations = [cite(p, first_n + i, [question], snapshot) for i, p in enumerate(passages[:top_n])]
    if not citations:
        return "", []
    return nearest_passages_note(citations), citations


# ---------------------------------------------------------------- the answerer


def failure_reason(exc: BaseException) -> str:
    """A short Chinese reason for the warning, from the most telling exception in the chain."""
    chain, seen = [], exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    names = [type(e).__name__ for e in chain]
    for e in chain:
        if isinstance(e, LLMFailure):
            return e.reason
    if any("Timeout" in n for n in names):
        return "请求超时"
    if any(n in ("RemoteProtocolError", "ReadError", "IncompleteRead") for n in names):
        return "输出流中断"
    for e in chain:
        status = getattr(e, "status_code", None) or getattr(getattr(e, "response", None), "status_code", None)
        if isinstance(status, int):
            return f"服务返回 HTTP {status}"
    if "JSONDecodeError" in names:
        return "输出格式错误"
    if any("Connect" in n for n in names):
        return "无法连接"
    return "调用出错"


class LLMAnswerer:
    """One per Assistant: a ChatOpenAI client for the configured endpoint, a cached health check."""

    def __init__(self, assistant):
        from langchain_openai import ChatOpenAI

        self.assistant = assistant
        s = assistant.settings
        self.settings = s
        self.chat = ChatOpenAI(
            base_url=s.llm_base_url.strip(),
            api_key=s.llm_api_key or "not-needed",
            model=s.llm_model,
            timeout=s.llm_timeout_s,
            max_retries=s.llm_max_retries,
            temperature=s.llm_temperature,
            max_tokens=s.llm_max_tokens,
            use_responses_api=False,
            stream_usage=False,
        )
        self._health_lock = threading.Lock()
        self._health: tuple[float, bool] | None = None  # (monotonic time, reachable)
        self._failed: tuple[float, str] | None = None  # (monotonic time, reason) of the last failed answer

    # ------------------------------------------------------------ health

    def reachable(self) -> bool:
        """Cheap: GET /models at most every HEALTH_TTL_S seconds; recent answers count as checks too."""
        with self._health_lock:
            if self._health and time.monotonic() - self._health[0] < HEALTH_TTL_S:
                return self._health[1]
            ok = self._probe()
            self._health = (time.monotonic(), ok)
            return ok

    def _probe(self) -> bool:
        client = self.chat.root_client.with_options(
            timeout=min(HEALTH_TIMEOUT_S, self.settings.llm_timeout_s), max_retries=0
        )
        try:
            client.models.list()
            return True
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", never an error
            if getattr(exc, "status_code", None) in (404, 405):  # up, but without a /models route
                return True
            log.info("LLM endpoint not reachable: %s", exc)
            return False

    def _note(self, ok: bool, reason: str = "") -> None:
        now = time.monotonic()
        with self._health_lock:
            self._health = (now, ok)
            self._failed = None if ok else (now, reason)

    def _recent_failure(self) -> str | None:
        failed = self._failed
        if failed and time.monotonic() - failed[0] < RETRY_AFTER_FAILURE_S:
            return failed[1]
        return None

    # ------------------------------------------------------------ answering

    def rewrite(self, question: str, history: list[dict]) -> str:
        """A follow-up rewritten by the model into a standalone query for retrieval."""
        reply = self.chat.invoke(rewrite_messages(question, history))
        return parse_rewrite(reply.text if isinstance(reply.text, str) else str(reply.content), question)

    def stream(self, question: str, top_k: int, history: list[dict]) -> Iterator[str | Answer]:
        """Yields verified answer text as it streams, then the final `Answer` (mode "llm", or a fallback)."""
        started = time.perf_counter()
        assistant = self.assistant
        query = question
        if (reason := self._recent_failure()) is not None:
            log.info("LLM endpoint failed moments ago (%s): answering extractively", reason)
            yield from self._degraded(
                assistant.extractive_reply(question, history, top_k), reason, emitted=False
            )
            return
        if history:
            try:
                query = self.rewrite(question, history)
            except Exception as exc:  # noqa: BLE001 - the endpoint is down: answer without it
                reason = self._failed_with(exc)
                yield from self._degraded(assistant.extractive_reply(question, history, top_k), reason, False)
                return
        hits = assistant.answer_hits(query, top_k)
        snapshot = assistant.snapshot
        passages = build_passages(hits, snapshot, self.settings.llm_context_chars, query)
        # the extractive answer's confidence decides whether the documents hold an answer at all: below the
        # threshold the model is not asked (it would only be tempted to answer from its own knowledge)
        gate = assistant.extractive_answer(query, hits)
        if not passages or not gate.grounded:
            gate.mode = "llm"
            yield from pieces(gate.answer)
            yield gate
            return
        verified = VerifiedStream(len(passages), supported_by(passages, snapshot))
        shown = ""  # the text already handed to the caller
        llm_started = time.perf_counter()
        chunks = self.chat.stream(answer_messages(question, history, passages))
        try:
            finish = None
            for chunk in chunks:
                finish = chunk.response_metadata.get("finish_reason") or finish
                piece = verified.feed(chunk.text if isinstance(chunk.text, str) else "")
                if piece:
                    shown += piece
                    yield piece
            if finish is None:
                raise LLMFailure("输出流中断")
            verified.close()  # the rest is released below, with whatever _finish adds
            if not verified.text and not verified.dropped:
                raise LLMFailure("返回了空回答")
            if verified.dropped:
                log.info("LLM answer: %d sentence(s) without a valid citation dropped", len(verified.dropped))
        except Exception as exc:  # noqa: BLE001 - any failure of the endpoint degrades, never errors
            reason = self._failed_with(exc)
            yield from self._degraded(assistant.extractive_answer(query, hits), reason, emitted=bool(shown))
            return
        finally:
            chunks.close()
        self._note(True)
        llm_ms = 1000 * (time.perf_counter() - llm_started)
        result = self._finish(question, query, verified, passages, snapshot)
        result.confidence = gate.confidence
        if finish == "length":
            result.warning = "大模型的回答达到长度上限（llm_max_tokens），可能不完整。"
        if result.answer.startswith(shown):
            yield from pieces(result.answer[len(shown) :])
        else:  # cannot happen while release waits for a citation or a refusal; keep the stream honest anyway
            yield from pieces("\n\n" + result.answer)
        log.info(
            "ask mode=llm grounded=%s citations=%d chars=%d ms=%.1f llm_ms=%.1f",
            result.grounded,
            len(result.citations),
            len(question),
            1000 * (time.perf_counter() - started),
            llm_ms,
        )
        yield result

    def _finish(
        self, question: str, query: str, verified: VerifiedStream, passages: list[Passage], snapshot: Snapshot
    ) -> Answer:
        text = verified.text
        by_number = {p.n: p for p in passages}
        cited = claims(text)
        citations = [
            cite(by_number[k], n, cited.get(n) or [question], snapshot)
            for k, n in sorted(verified.mapping.items(), key=lambda kv: kv[1])
        ]
        if citations and not verified.refused:
            return Answer(text, True, "llm", citations, query=query)
        if not verified.refused:  # uncited prose: never shown as an answer
            text = f"{REFUSAL_PREFIX}能够支持回答的资料段落（模型的回答没有引用任何给定段落，已略去）。"
        if not citations:
            listing, citations = nearest_passages(passages, question, snapshot, 1)
            text = text + listing
        return Answer(text, False, "llm", citations, query=query)

    # ------------------------------------------------------------ course packs

    def summarize(self, topics: list[str], section) -> list:
        """A short cited summary of a course-pack section (`coursepack.Section`), verified like an answer:
        only sentences citing a document of the section survive; a refusal gives no summary."""
        from ..coursepack_lead import Claim

        blocks: dict[
            int, list[str]
        ] = {}  # reference number → its heading and items, whole items within budget
        numbered, used = {}, 0
        for item in section.items:
            line = f"- {item.text}"
            used += len(line)
            if used > self.settings.llm_context_chars:
                break
            numbered.setdefault(item.n, item)
            blocks.setdefault(item.n, [f"[{item.n}] 《{item.title}》"]).append(line)
        prompt = render_prompt(
            "coursepack_summary",
            section=section.kind,
            topics="、".join(topics),
            passages="\n\n".join("\n".join(b) for b in blocks.values()),
        )
        reply = self.chat.invoke([("system", load_prompt("system")), ("human", prompt)])
        text = strip_markup((reply.text if isinstance(reply.text, str) else str(reply.content)).strip())
        if not text or text.startswith(REFUSAL_PREFIX[:5]):
            return []
        out = []
        for sentence in re.findall(f"[^{END_MARKS}]+(?:{SENTENCE_END.pattern})?", text):
            cited = [int(n) for g in MARKER_GROUP.findall(sentence) for n in re.split(r"\D+", g) if n]
            doc_ids = list(dict.fromkeys(numbered[n].doc_id for n in cited if n in numbered))
            body = TRAILING_PUNCTUATION.sub("", MARKER_GROUP.sub("", sentence).rstrip()).strip()
            if doc_ids and body and self._backed(body, [i for i in section.items if i.n in cited]):
                out.append(Claim(body, doc_ids))
        return out

    def _backed(self, claim: str, items: list) -> bool:
        """Like an answer sentence, a summary sentence must share enough with an item it cites (MIN_SUPPORT):
        an injected instruction with a borrowed [n] does not."""
        score = _supporter(claim, self.assistant.snapshot)
        return any(score(item.text) >= MIN_SUPPORT for item in items)

    def _failed_with(self, exc: BaseException) -> str:
        reason = failure_reason(exc)
        log.warning("LLM endpoint failed (%s: %s); answering extractively", reason, exc)
        self._note(False, reason)
        return reason

    def _degraded(self, result: Answer, reason: str, emitted: bool) -> Iterator[str | Answer]:
        result.warning = f"大模型暂时不可用（{reason}），已改用摘录式回答。"
        if emitted:
            yield _FALLBACK_NOTICE
        yield from pieces(result.answer)
        yield result
