#!/usr/bin/env python3
"""Self-check for the oidc-provider interop peer (python stdlib only).

Starts ``server.mjs`` on a free port with its own clients file, drives it the
way a headless relying party must (no automatic redirects, a cookie jar, the
development login and consent forms) and checks what the ferroauth tests rely
on. It stops the provider it started, and only that one.

    python3 interop/oidc-provider/selfcheck.py [--node PATH] [--verbose]

Node comes from --node, else $FERROAUTH_NODE, else `node` on PATH. Exit code 0
when every check passed; the provider's log is printed on failure.

The login sequence it documents (all redirects are 303):
  1. GET  /auth?client_id&response_type=code&redirect_uri&scope&state&nonce
          &code_challenge&code_challenge_method=S256[&prompt=consent]
                                             -> /interaction/<uid1>
  2. POST /interaction/<uid1>  prompt=login&login=<user>&password=<any>
                                             -> /auth/<uid1>
  3. GET  /auth/<uid1>                       -> /interaction/<uid2>
  4. POST /interaction/<uid2>  prompt=consent -> /auth/<uid2>
  5. GET  /auth/<uid2>                       -> <redirect_uri>?code&state&iss
Abort instead: GET /interaction/<uid>/abort -> ... -> <redirect_uri>?error=access_denied
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html.parser
import http.cookiejar
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.mjs")
REDIRECT = "http://127.0.0.1:9/cb"  # never contacted

CLIENTS = [
    {
        "client_id": "basic-client",
        "client_secret": "basic-secret-0123456789abcdef0123456789abcdef",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "id_token_signed_response_alg": "RS256",
    },
    {
        # HS256 ID tokens can be verified with the stdlib (key = client_secret).
        "client_id": "post-client",
        "client_secret": "post-secret-0123456789abcdef0123456789abcdef",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "id_token_signed_response_alg": "HS256",
    },
    {
        "client_id": "public-client",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "id_token_signed_response_alg": "ES256",
    },
    *[
        {
            "client_id": f"public-{alg.lower()}",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "id_token_signed_response_alg": alg,
        }
        for alg in ("PS256", "EdDSA")
    ],
    {
        "client_id": "service-client",
        "client_secret": "service-secret-0123456789abcdef0123456789abcdef",
        "redirect_uris": [],
        "response_types": [],
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
    },
]
BY_ID = {c["client_id"]: c for c in CLIENTS}

VERBOSE = False


def log(msg: str) -> None:
    if VERBOSE:
        print(f"  .. {msg}", file=sys.stderr)


class CheckFailed(Exception):
    pass


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise CheckFailed(what)


# --------------------------------------------------------------------------
# Provider process


class Provider:
    def __init__(self, node: str, clients_file: str):
        self.log_lines: list[str] = []
        self.proc = subprocess.Popen(
            [node, SERVER, "--clients", clients_file, "--port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        self.issuer = self._wait_ready(timeout=30)

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log_lines.append(line.rstrip("\n"))

    def _wait_ready(self, timeout: float) -> str:
        result: list[str] = []

        def read() -> None:
            result.append(self.proc.stdout.readline())

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(timeout)
        line = result[0] if result else ""
        if not line.startswith("READY "):
            self.stop()
            raise CheckFailed(
                f"provider did not print READY within {timeout}s (got {line!r}); log:\n"
                + "\n".join(self.log_lines)
            )
        return line.split(" ", 1)[1].strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --------------------------------------------------------------------------
# HTTP without automatic redirects


class KeepEveryResponse(urllib.request.HTTPErrorProcessor):
    """Hand back 3xx/4xx/5xx responses as they are (no redirect following)."""

    def http_response(self, request, response):
        return response

    https_response = http_response


class Response:
    def __init__(self, status: int, headers, body: bytes, url: str):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    def json(self):
        return json.loads(self.body)

    @property
    def location(self) -> str | None:
        loc = self.headers.get("Location")
        return urllib.parse.urljoin(self.url, loc) if loc else None


class Browser:
    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), KeepEveryResponse()
        )

    def request(self, method: str, url: str, form: dict | None = None, headers: dict | None = None) -> Response:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        with self.opener.open(req, timeout=15) as resp:
            r = Response(resp.status, resp.headers, resp.read(), url)
        log(f"{method} {url} -> {r.status} {r.headers.get('Location') or ''}")
        return r


class FormParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""


# --------------------------------------------------------------------------
# Helpers


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def pkce_pair() -> tuple[str, str]:
    verifier = b64url(secrets.token_bytes(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def jwt_parts(token: str) -> tuple[dict, dict]:
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def basic(client_id: str, secret: str) -> str:
    q = urllib.parse.quote
    return "Basic " + base64.b64encode(f"{q(client_id, safe='')}:{q(secret, safe='')}".encode()).decode()


def authorize(browser: Browser, meta: dict, client_id: str, *, user: str = "alice",
              scope: str = "openid email profile", extra: dict | None = None,
              abort: bool = False, pkce: bool = True) -> tuple[dict, str, str]:
    """Run the authorization request through the dev interactions.

    Returns (callback query params, state, code_verifier)."""
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    verifier, challenge = pkce_pair()
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": state,
        "nonce": nonce,
    }
    if pkce:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    params |= extra or {}
    url = meta["authorization_endpoint"] + "?" + urllib.parse.urlencode(params)
    resp = browser.request("GET", url)
    for _ in range(20):
        if 300 <= resp.status < 400:
            loc = resp.location
            expect(loc is not None, f"redirect without Location from {resp.url}")
            if loc.startswith(REDIRECT):
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
                q["_nonce"] = nonce
                return q, state, verifier
            if abort and "/interaction/" in loc and not loc.endswith("/abort"):
                loc = loc.rstrip("/") + "/abort"
            resp = browser.request("GET", loc)
            continue
        expect(resp.status == 200, f"unexpected {resp.status} at {resp.url}: {resp.body[:300]!r}")
        form = FormParser()
        form.feed(resp.body.decode("utf-8", "replace"))
        expect(form.action is not None, f"no form on page {resp.url}")
        action = urllib.parse.urljoin(resp.url, form.action)
        prompt = form.fields.get("prompt")
        if prompt == "login":
            resp = browser.request("POST", action, {"prompt": "login", "login": user, "password": "x"})
        elif prompt == "consent":
            resp = browser.request("POST", action, {"prompt": "consent"})
        else:
            raise CheckFailed(f"unknown interaction prompt {prompt!r} at {resp.url}")
    raise CheckFailed("too many hops before reaching the redirect URI")


def token_request(meta: dict, form: dict, client_id: str, how: str) -> Response:
    c = BY_ID[client_id]
    headers = {"Accept": "application/json"}
    form = dict(form)
    if how == "basic":
        headers["Authorization"] = basic(client_id, c["client_secret"])
    elif how == "post":
        form |= {"client_id": client_id, "client_secret": c["client_secret"]}
    elif how == "none":
        form |= {"client_id": client_id}
    return Browser().request("POST", meta["token_endpoint"], form, headers)


def code_login_and_token(meta: dict, issuer: str, client_id: str, how: str, *, user: str,
                         scope: str, extra: dict | None = None) -> dict:
    cb, state, verifier = authorize(Browser(), meta, client_id, user=user, scope=scope, extra=extra)
    expect("code" in cb, f"no code in callback: {cb}")
    expect(cb.get("state") == state, "state mismatch in callback")
    expect(cb.get("iss") == issuer, f"iss in callback {cb.get('iss')!r} != {issuer!r}")
    resp = token_request(meta, {
        "grant_type": "authorization_code",
        "code": cb["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }, client_id, how)
    expect(resp.status == 200, f"token endpoint ({how}) -> {resp.status}: {resp.body!r}")
    tok = resp.json()
    expect(tok.get("token_type", "").lower() == "bearer", f"token_type {tok.get('token_type')!r}")
    expect("access_token" in tok and "id_token" in tok, f"missing tokens: {sorted(tok)}")
    header, claims = jwt_parts(tok["id_token"])
    expect(claims.get("iss") == issuer, "id_token iss")
    expect(claims.get("aud") in (client_id, [client_id]), f"id_token aud {claims.get('aud')!r}")
    expect(claims.get("sub") == user, f"id_token sub {claims.get('sub')!r}")
    expect(claims.get("nonce") == cb["_nonce"], "id_token nonce")
    expect(header.get("alg") == BY_ID[client_id].get("id_token_signed_response_alg", "RS256"),
           f"id_token alg {header.get('alg')}")
    tok["_header"], tok["_claims"] = header, claims
    return tok


def userinfo(meta: dict, access_token: str) -> Response:
    return Browser().request("GET", meta["userinfo_endpoint"],
                             headers={"Authorization": f"Bearer {access_token}"})


# --------------------------------------------------------------------------
# Checks


def check_discovery(issuer: str) -> dict:
    resp = Browser().request("GET", issuer + "/.well-known/openid-configuration")
    expect(resp.status == 200, f"discovery -> {resp.status}")
    meta = resp.json()
    expect(meta["issuer"] == issuer, f"issuer {meta['issuer']!r} != {issuer!r}")
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"):
        expect(key in meta, f"discovery lacks {key}")
    algs = set(meta["id_token_signing_alg_values_supported"])
    expect({"RS256", "PS256", "ES256", "EdDSA", "HS256"} <= algs, f"id token algs {algs}")
    expect(meta["code_challenge_methods_supported"] == ["S256"], "PKCE methods")
    expect(meta.get("authorization_response_iss_parameter_supported") is True, "RFC 9207 flag")
    jwks = Browser().request("GET", meta["jwks_uri"]).json()
    kinds = sorted((k["kty"], k.get("crv", "")) for k in jwks["keys"])
    expect(kinds == [("EC", "P-256"), ("OKP", "Ed25519"), ("RSA", "")], f"jwks key kinds {kinds}")
    expect(len({k["kid"] for k in jwks["keys"]}) == 3, "jwks kids not distinct")
    expect(all("d" not in k for k in jwks["keys"]), "jwks leaks private key material")
    return meta


def check_basic_flow_userinfo_refresh(meta: dict, issuer: str) -> None:
    tok = code_login_and_token(meta, issuer, "basic-client", "basic", user="alice",
                               scope="openid email profile offline_access",
                               extra={"prompt": "consent"})
    expect("refresh_token" in tok, "no refresh_token despite offline_access + prompt=consent")
    ui = userinfo(meta, tok["access_token"])
    expect(ui.status == 200, f"userinfo -> {ui.status}")
    claims = ui.json()
    want = {"sub": "alice", "email": "alice@example.test", "email_verified": True,
            "name": "Alice Example", "given_name": "Alice", "family_name": "Example",
            "preferred_username": "alice"}
    expect(claims == want, f"userinfo claims {claims}")

    # Refresh with rotation; the old refresh token is then dead.
    r1 = token_request(meta, {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]},
                       "basic-client", "basic")
    expect(r1.status == 200, f"refresh -> {r1.status}: {r1.body!r}")
    new = r1.json()
    expect(new.get("refresh_token") not in (None, tok["refresh_token"]), "refresh token not rotated")
    expect("id_token" in new, "refresh gave no id_token")
    # Introspection and revocation of the newest access token.
    at = new["access_token"]
    c = BY_ID["basic-client"]
    auth = {"Authorization": basic("basic-client", c["client_secret"]), "Accept": "application/json"}
    intro = Browser().request("POST", meta["introspection_endpoint"], {"token": at}, auth).json()
    expect(intro.get("active") is True and intro.get("sub") == "alice", f"introspection {intro}")
    rev = Browser().request("POST", meta["revocation_endpoint"], {"token": at}, auth)
    expect(rev.status == 200, f"revocation -> {rev.status}")
    ui = userinfo(meta, at)
    expect(ui.status == 401 and "invalid_token" in (ui.headers.get("WWW-Authenticate") or ""),
           f"userinfo with revoked token -> {ui.status}")

    # Reusing the rotated refresh token fails and revokes the whole grant,
    # so the newest refresh token dies with it.
    for rt, what in ((tok["refresh_token"], "reused"), (new["refresh_token"], "post-reuse")):
        r = token_request(meta, {"grant_type": "refresh_token", "refresh_token": rt},
                          "basic-client", "basic")
        expect(r.status == 400 and r.json().get("error") == "invalid_grant",
               f"{what} refresh token -> {r.status} {r.body!r}")


def check_post_hs256(meta: dict, issuer: str) -> None:
    tok = code_login_and_token(meta, issuer, "post-client", "post", user="bob",
                               scope="openid email")
    h, p, s = tok["id_token"].split(".")
    key = BY_ID["post-client"]["client_secret"].encode()
    mac = hmac.new(key, f"{h}.{p}".encode(), hashlib.sha256).digest()
    expect(hmac.compare_digest(b64url(mac), s), "HS256 id_token signature does not verify")
    claims = userinfo(meta, tok["access_token"]).json()
    expect(claims == {"sub": "bob", "email": "bob@example.test", "email_verified": True},
           f"userinfo for scope openid email: {claims}")


def check_public_client(meta: dict, issuer: str) -> None:
    tok = code_login_and_token(meta, issuer, "public-client", "none", user="carol",
                               scope="openid profile")
    claims = userinfo(meta, tok["access_token"]).json()
    expect(claims.get("preferred_username") == "carol" and "email" not in claims,
           f"userinfo for scope openid profile: {claims}")
    for client_id in ("public-ps256", "public-eddsa"):
        code_login_and_token(meta, issuer, client_id, "none", user="dave", scope="openid")


def check_abort(meta: dict, issuer: str) -> None:
    cb, state, _ = authorize(Browser(), meta, "basic-client", abort=True)
    expect(cb.get("error") == "access_denied", f"abort gave {cb}")
    expect(cb.get("state") == state and cb.get("iss") == issuer, "abort: state/iss")


def check_errors(meta: dict, issuer: str) -> None:
    cb, state, _ = authorize(Browser(), meta, "basic-client", pkce=False)
    expect(cb.get("error") == "invalid_request" and cb.get("state") == state,
           f"missing PKCE gave {cb}")
    resp = Browser().request("POST", meta["token_endpoint"],
                             {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT,
                              "code_verifier": "x" * 43},
                             {"Authorization": basic("basic-client", "wrong"), "Accept": "application/json"})
    expect(resp.status == 401 and resp.json().get("error") == "invalid_client",
           f"wrong secret -> {resp.status} {resp.body!r}")


def check_client_credentials(meta: dict, issuer: str) -> None:
    resp = token_request(meta, {"grant_type": "client_credentials"}, "service-client", "basic")
    expect(resp.status == 200 and "access_token" in resp.json(),
           f"client_credentials -> {resp.status} {resp.body!r}")


CHECKS = [
    ("code+PKCE, client_secret_basic, userinfo, refresh rotation, introspect, revoke",
     check_basic_flow_userinfo_refresh),
    ("code+PKCE, client_secret_post, HS256 id_token verified", check_post_hs256),
    ("code+PKCE, public clients (none), ES256/PS256/EdDSA id_tokens", check_public_client),
    ("interaction abort -> error=access_denied", check_abort),
    ("missing PKCE and wrong client secret are rejected", check_errors),
    ("client_credentials grant", check_client_credentials),
]


def main() -> int:
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--node", default=os.environ.get("FERROAUTH_NODE") or "node")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ferroauth-oidc-selfcheck-") as tmp:
        clients_file = os.path.join(tmp, "clients.json")
        with open(clients_file, "w") as f:
            json.dump(CLIENTS, f)
        try:
            provider = Provider(args.node, clients_file)
        except (CheckFailed, OSError) as e:
            print(f"FAIL start: {e}", file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
        print(f"oidc-provider at {provider.issuer} (ready in {time.monotonic() - started:.2f}s)")
        passed = failed = 0
        try:
            meta = check_discovery(provider.issuer)
            print("ok   discovery and jwks")
            passed += 1
            for name, fn in CHECKS:
                t0 = time.monotonic()
                try:
                    fn(meta, provider.issuer)
                except (CheckFailed, urllib.error.URLError, KeyError, ValueError) as e:
                    failed += 1
                    print(f"FAIL {name}: {type(e).__name__}: {e}")
                else:
                    passed += 1
                    print(f"ok   {name} ({time.monotonic() - t0:.2f}s)")
        except (CheckFailed, urllib.error.URLError, KeyError, ValueError) as e:
            failed += 1
            print(f"FAIL discovery: {type(e).__name__}: {e}")
        finally:
            provider.stop()
        sys.stdout.flush()
        if failed or VERBOSE:
            print("---- provider log ----", file=sys.stderr)
            print("\n".join(provider.log_lines), file=sys.stderr, flush=True)
    print(f"oidc-provider selfcheck: {passed} passed, {failed} failed "
          f"({time.monotonic() - started:.2f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
