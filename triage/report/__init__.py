"""Court reports: a case's exhibits, custody, methodology, findings and verification as HTML and PDF.

Layout (issue 10, section 2):

- ``context.py``: what every part of a report is built from (:class:`ReportContext`): the case, the
  exhibits and record kinds asked for, where pictures go (:class:`MediaSink`) and the redaction.
- ``sections.py``: the contract between the parts that collect data and the templates that show it
  (:class:`Section`: an id, a title, a template and its pages, produced lazily so that a case of
  100,000 messages is rendered page by page).
- ``redact.py``: ``--redact FILE``: listed names, numbers, accounts and pictures replaced by
  pseudonyms kept in the case (never in the report).
- ``env.py``: the one Jinja2 environment (autoescaping on, undefined names an error, every printed
  value passed through the redaction).
- ``templates/``: the Jinja2 templates and the style sheet shared by the HTML and the PDF.
"""
