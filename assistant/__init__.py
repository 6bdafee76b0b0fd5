"""政策问答助手: retrieval-augmented QA over Chinese policy documents with verbatim citations."""

__version__ = "0.1.0"
# 2: pdfium extraction, OCR, headings, datelines, control characters; 3: words a page lost marked (punctuation.LOST)
PIPELINE_VERSION = "3"
