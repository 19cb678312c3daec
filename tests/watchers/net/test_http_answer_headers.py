"""The answer `Http` hands back: its headers as the server sent them, its body decoded once."""

from __future__ import annotations

import gzip

import httpx
import respx

from watchers.net.http import Http, build_client

URL = "https://www.ema.europa.eu/en/documents/report/medicines-output.xml"


def read_through(answer: httpx.Response) -> httpx.Response:
    """What `Http.get` returns when the server sends `answer`."""
    with respx.mock(assert_all_called=True) as router, build_client() as client:
        router.get(URL).mock(return_value=answer)
        return Http(client, min_interval=0, sleep=lambda _: None).get(URL)


def test_a_header_in_utf8_is_read_not_a_crash() -> None:
    name = 'attachment; filename="Médicaments à usage humain.xml"'.encode()
    got = read_through(
        httpx.Response(200, headers=[(b"Content-Disposition", name)], content=b"<x/>")
    )
    assert got.content == b"<x/>"
    assert got.headers["content-disposition"] == name.decode()


def test_a_gzip_body_comes_decoded_with_every_other_header_kept_in_order() -> None:
    body = b"<rss>" + b"x" * 5000 + b"</rss>"
    headers = [
        (b"Content-Encoding", b"gzip"),
        (b"Link", b"<https://example.org/a>; rel=next"),
        (b"ETag", b'"v1"'),
        (b"Link", b"<https://example.org/b>; rel=last"),
    ]
    got = read_through(httpx.Response(200, headers=headers, content=gzip.compress(body)))
    assert got.content == body
    links = ["<https://example.org/a>; rel=next", "<https://example.org/b>; rel=last"]
    assert got.headers.get_list("link") == links
    assert got.headers["etag"] == '"v1"'
    assert "content-encoding" not in got.headers
    assert got.headers["content-length"] == str(len(body))  # the decoded body's length
