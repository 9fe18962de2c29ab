"""``python -m api.core.i18n``: compile the web apps' JSON catalogues from locale/."""

from api.core.i18n.catalogues import main

main()
