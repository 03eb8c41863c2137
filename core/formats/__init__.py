"""One format for dates and numbers on every page, in both languages
(FORMAT_MODULE_PATH): a date is 2026-01-05 and a time 2026-01-05 09:30 wherever a
template or a form shows one without a format of its own, never 2026年1月5日 or
Jan. 5, 2026; a number `intcomma` groups reads 88,321,058 in Chinese too."""
