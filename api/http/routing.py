"""One router module per domain; each is built with the full ``/api/v1`` prefix so the policy
check sees the complete path template of the matched route. Also the ``{…:lang}`` path
segment of the pages that carry their language in the URL."""

from fastapi import APIRouter
from starlette.convertors import Convertor, register_url_convertor

from models.organizations import LANGUAGES

API_PREFIX = "/api/v1"


def api_router(tag: str) -> APIRouter:
    return APIRouter(prefix=API_PREFIX, tags=[tag])


class LanguageConvertor(Convertor[str]):
    """A language code as a path segment: ``/public/x/sv/`` is Swedish, ``/public/x/areas/``
    is not a language and goes on to the next route."""

    regex = "|".join(lang.value for lang in LANGUAGES)

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


LANGUAGE_PATH = "lang"
register_url_convertor(LANGUAGE_PATH, LanguageConvertor())
