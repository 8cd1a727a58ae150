"""The office's Word report (Báo cáo) drafted from a consolidation: the heading of a Đoàn
document, the campaign's outline with the sentences its figures support, marked places for
what only people know (with the units' own notes), and every form as an appendix table.

``figures`` (sentences) and ``context`` (what a template reads) are pure; ``template`` makes
the built-in ``.docx`` template; ``appendix`` and ``render`` produce the document.

May import: :mod:`toolkit.spec` and :mod:`toolkit._infra`; imported by the CLI.
"""

from toolkit.report.word.render import ReportTemplateError, render, report_name

__all__ = ["ReportTemplateError", "render", "report_name"]
