"""The two pages sign-in shows a person: the consent page and the page that says why not.

Pure rendering; every value is escaped. Served with a policy that forbids framing (clickjacking)
and loads nothing but the inline style.
"""

from __future__ import annotations

from html import escape

PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    # same-origin: nothing leaks to GitHub or the app, and the form POST still carries its Origin
    # (with no-referrer, browsers send Origin: null, which the consent check refuses).
    "Referrer-Policy": "same-origin",
}
STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1f2328}"
    "h1{font-size:1.4rem}.box{border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}"
    "code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px;overflow-wrap:anywhere}"
    ".to{display:block;margin:.35rem 0;width:fit-content}"
    "button{font:inherit;padding:.5rem 1.25rem;border-radius:6px;border:1px solid #d0d7de;margin-right:.5rem}"
    ".approve{background:#1f883d;color:#fff;border-color:#1f883d}.muted{color:#59636e;font-size:.9rem}"
)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width,initial-scale=1"><title>{escape(title)}</title><style>{STYLE}</style>'
        f"</head><body>{body}</body></html>"
    )


# What a client gets, in the words the consent page uses: public data, or private repositories too.
GETS = {
    False: "<p>It gets: <strong>search and read public GitHub as you</strong>, counted against your own GitHub "
    "rate limit. It gets no access to your private repositories and cannot change anything on GitHub.</p>",
    True: "<p>It gets: <strong>search and read GitHub as you, including your private repositories where this "
    "service's GitHub App is installed, read-only</strong> (their code, issues and pull requests), counted "
    "against your own GitHub rate limit. It cannot change anything on GitHub, and what it reads is shown to "
    "no one else.</p>",
}


def consent(
    *,
    service: str,
    client_name: str,
    client_id: str,
    redirect_to: str,
    pending: str,
    csrf: str,
    github: str,
    private: bool = False,
) -> str:
    """Asks before a client's first sign-in to each redirect URI: who it is, exactly where the
    code goes (an approval covers that address alone), what it gets."""
    shown_id = f"<br><span class=muted>client id <code>{escape(client_id)}</code></span>"
    return _page(
        f"Allow {client_name} to use {service}?",
        f"<h1>Allow <strong>{escape(client_name or 'an unnamed app')}</strong> to search GitHub as you?</h1>"
        f'<div class="box"><p><strong>{escape(client_name or "This app")}</strong> asks to use '
        f"<strong>{escape(service)}</strong> on your behalf.{shown_id}</p>"
        f"<p>If you allow it, you sign in with GitHub ({escape(github)}) next, then you are sent back to "
        f"{_destination(redirect_to)}</p>"
        f"{GETS[private]}"
        "</div><p>Only allow apps you started the sign-in from yourself.</p>"
        '<form method="post" action="/oauth/consent">'
        f'<input type="hidden" name="pending" value="{escape(pending)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<button class="approve" name="decision" value="approve" type="submit">Allow</button>'
        '<button name="decision" value="deny" type="submit">Cancel</button></form>',
    )


def _destination(redirect_to: str) -> str:
    """Where the code goes, as a person can judge it: the site (or this computer, or an app) and
    the whole address. Another address of the same app asks again."""
    scheme, _, rest = redirect_to.partition(":")
    if scheme == "https":
        who = f"<strong>{escape(rest[2:].split('/', 1)[0].split('?', 1)[0])}</strong>"
    elif scheme == "http":
        who = "<strong>an app on this computer</strong>"
    else:
        who = f"<strong>the app that opens {escape(scheme)}: links</strong>"
    return f'{who} with a code that lets it act as you, at:<code class="to">{escape(redirect_to)}</code>'


def refusal(title: str, message: str, back: str | None = None) -> str:
    """Why the sign-in stops here; `back` returns to the app with an error, when it is safe to."""
    link = f'<p><a href="{escape(back)}">Return to the app</a></p>' if back else ""
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>{link}")
