#!/usr/bin/env python3
"""The project's development provider (crate ferroauth-testkit) against clients that are
not ferroauth: Authlib's OAuth2Session for OpenID Connect (code flow with PKCE S256, the
ID token verified with the provider's JWKS through joserfc, userinfo, refresh) and
requests-oauthlib's OAuth1Session for OAuth 1.0a (HMAC-SHA1 and PLAINTEXT: temporary
credentials, authorization, token credentials, signed API calls).

It proves that the development provider follows the standards, so that a ferroauth test
passing against it means something.

    interop/.venv/bin/python interop/testkit-client/check.py [--verbose]

It builds and starts the `dev_server` example of ferroauth-testkit on a free port (the
users are alice and bob; the clients web, web-post, spa and consumer), logs in through the
provider's login page as a browser would (posting its form), and stops that server only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html.parser
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_PLAINTEXT
from requests_oauthlib import OAuth1Session

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
# The dev_server example's registered redirect URI; never contacted, the check reads the
# redirect's Location instead.
REDIRECT = "http://localhost:3000/callback"
OAUTH1_CALLBACK = "http://127.0.0.1:9/oauth1/cb"

VERBOSE = False


class CheckFailed(Exception):
    pass


def expect(cond: object, what: str) -> None:
    if not cond:
        raise CheckFailed(what)


def show(resp: requests.Response) -> requests.Response:
    if VERBOSE:
        print(f"  .. {resp.request.method} {resp.request.url} -> {resp.status_code} "
              f"{resp.headers.get('Location') or resp.text[:120]}", file=sys.stderr)
    return resp


def query_of(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---------------------------------------------------------------------------
# The provider's login page, as a browser sees it


class LoginForm(html.parser.HTMLParser):
    """The login page's form: its action, hidden fields and the users' buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self.users: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a.get("name", "")] = a.get("value", "")
        elif tag == "button" and a.get("name") == "user":
            self.users.append(a.get("value", ""))


def log_in_at_provider(page_url: str, user: str) -> str:
    """Opens the provider's login page, picks `user`'s button; returns the redirect target."""
    browser = requests.Session()
    r = show(browser.get(page_url, allow_redirects=False, timeout=15))
    expect(r.status_code == 200 and "text/html" in r.headers.get("Content-Type", ""),
           f"login page -> {r.status_code} {r.headers.get('Content-Type')}")
    form = LoginForm()
    form.feed(r.text)
    expect(form.action, "the login page has no form")
    expect(user in form.users, f"no button for {user} on the login page (users: {form.users})")
    expect("request" in form.hidden, f"the login form has no request field: {form.hidden}")
    action = urllib.parse.urljoin(page_url, form.action)
    r = show(browser.post(action, data={**form.hidden, "user": user}, allow_redirects=False, timeout=15))
    expect(r.status_code in (302, 303), f"login form -> {r.status_code}: {r.text[:200]}")
    return r.headers["Location"]


# ---------------------------------------------------------------------------
# The provider process


class DevServer:
    """`cargo build` the dev_server example, then run it on a free port."""

    def __init__(self, cargo: str) -> None:
        self.log_lines: list[str] = []
        binary = self.build(cargo)
        self.proc = subprocess.Popen(
            [binary, "127.0.0.1:0"], cwd=ROOT, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        issuer: list[str] = []
        ready = threading.Event()

        def read() -> None:
            for line in self.proc.stdout:
                self.log_lines.append(line.rstrip("\n"))
                if line.startswith("issuer:") and not issuer:
                    issuer.append(line.split(":", 1)[1].strip())
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(60)
        if not issuer:
            self.stop()
            raise CheckFailed("dev_server printed no issuer; output:\n" + "\n".join(self.log_lines))
        self.issuer = issuer[0]

    @staticmethod
    def build(cargo: str) -> str:
        cmd = [cargo, "build", "-p", "ferroauth-testkit", "--example", "dev_server",
               "--message-format=json-render-diagnostics"]
        print("building the dev_server example: " + " ".join(cmd[1:5]), flush=True)
        out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
        if out.returncode != 0:
            raise CheckFailed(f"cargo build failed with exit code {out.returncode}")
        for line in out.stdout.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if (msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "dev_server"
                    and msg.get("executable")):
                return msg["executable"]
        raise CheckFailed("cargo built no dev_server executable")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------
# OpenID Connect with Authlib


class OidcChecks:
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        r = show(requests.get(issuer + "/.well-known/openid-configuration", timeout=15))
        expect(r.status_code == 200, f"discovery -> {r.status_code}")
        self.meta = r.json()
        expect(self.meta["issuer"] == issuer, f"discovery issuer {self.meta['issuer']} != {issuer}")
        expect("S256" in self.meta.get("code_challenge_methods_supported", []),
               "discovery does not list PKCE S256")
        r = show(requests.get(self.meta["jwks_uri"], timeout=15))
        expect(r.status_code == 200, f"jwks -> {r.status_code}")
        self.jwks = KeySet.import_key_set(r.json())

    def session(self, client_id: str, secret: str | None, auth_method: str) -> OAuth2Session:
        return OAuth2Session(
            client_id, secret, scope="openid profile email", redirect_uri=REDIRECT,
            code_challenge_method="S256", token_endpoint_auth_method=auth_method,
        )

    def verify_id_token(self, id_token: str, client_id: str, nonce: str, access_token: str,
                        alg: str) -> dict:
        token = jwt.decode(id_token, self.jwks, algorithms=[alg])
        expect(token.header.get("alg") == alg, f"ID token alg {token.header.get('alg')} != {alg}")
        expect(token.header.get("kid"), "ID token header has no kid")
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
        # The testkit always sends at_hash with an access token.
        expect("at_hash" in token.claims, "ID token has no at_hash")
        digest = hashlib.sha256 if alg.endswith("256") else hashlib.sha384
        half = digest(access_token.encode()).digest()
        expect(token.claims["at_hash"] == b64url(half[: len(half) // 2]), "at_hash does not match")
        # A tampered signature must not verify.
        head, body, sig = id_token.split(".")
        forged = head + "." + b64url(json.dumps({**token.claims, "sub": "mallory"}).encode()) + "." + sig
        try:
            jwt.decode(forged, self.jwks, algorithms=[alg])
        except BadSignatureError:
            pass
        else:
            raise CheckFailed("a forged ID token verified")
        return token.claims

    def login(self, client_id: str, secret: str | None, auth_method: str, alg: str) -> None:
        sess = self.session(client_id, secret, auth_method)
        verifier = generate_token(48)
        nonce = generate_token(20)
        url, state = sess.create_authorization_url(
            self.meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
        q = query_of(url)
        expect(q.get("code_challenge_method") == "S256" and q.get("code_challenge"),
               f"Authlib sent no PKCE challenge: {q}")
        back = log_in_at_provider(url, "alice")
        expect(back.startswith(REDIRECT + "?"), f"redirected to {back}")
        answer = query_of(back)
        expect(answer.get("state") == state, f"state {answer.get('state')} != {state}")
        expect(answer.get("iss") == self.issuer, f"RFC 9207 iss {answer.get('iss')} != {self.issuer}")
        token = sess.fetch_token(self.meta["token_endpoint"], authorization_response=back,
                                 code_verifier=verifier)
        expect(token.get("token_type", "").lower() == "bearer", f"token_type {token.get('token_type')}")
        expect(token.get("refresh_token") and token.get("id_token"), f"token response keys {list(token)}")
        claims = self.verify_id_token(token["id_token"], client_id, nonce, token["access_token"], alg)
        expect(claims["sub"] == "alice", f"ID token sub {claims['sub']}")

        info = show(sess.get(self.meta["userinfo_endpoint"], timeout=15))
        expect(info.status_code == 200, f"userinfo -> {info.status_code}: {info.text}")
        info = info.json()
        expect(info.get("sub") == claims["sub"], f"userinfo sub {info.get('sub')} != ID token's")
        expect(info.get("email") == "alice@example.com" and info.get("name") == "Alice Liddell",
               f"userinfo claims {info}")
        me = show(sess.get(self.issuer + "/api/me", timeout=15))
        expect(me.status_code == 200 and me.json().get("sub") == "alice", f"api/me -> {me.status_code} {me.text}")

        # Refresh rotates the refresh token.
        old_refresh = token["refresh_token"]
        fresh = sess.refresh_token(self.meta["token_endpoint"], refresh_token=old_refresh)
        expect(fresh.get("access_token") and fresh["access_token"] != token["access_token"],
               "refresh gave no new access token")
        expect(fresh.get("refresh_token") and fresh["refresh_token"] != old_refresh,
               "refresh token not rotated")
        me = show(sess.get(self.issuer + "/api/me", timeout=15))
        expect(me.status_code == 200, f"api/me with the refreshed token -> {me.status_code}")

        # The code is single use; presenting it again also revokes what it gave (RFC 6749 §4.1.2).
        form = {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": REDIRECT,
                "code_verifier": verifier}
        basic = None
        if auth_method == "client_secret_basic":
            basic = (client_id, secret)
        else:
            form.update({"client_id": client_id, "client_secret": secret})
        again = show(requests.post(self.meta["token_endpoint"], data=form, auth=basic, timeout=15))
        expect(again.status_code == 400 and again.json().get("error") == "invalid_grant",
               f"reused code -> {again.status_code} {again.text}")
        me = show(sess.get(self.issuer + "/api/me", timeout=15))
        expect(me.status_code == 401, f"api/me after the code's reuse -> {me.status_code}")

        # Without a token the API refuses, with a WWW-Authenticate challenge.
        bare = show(requests.get(self.issuer + "/api/me", timeout=15))
        expect(bare.status_code == 401 and "Bearer" in bare.headers.get("WWW-Authenticate", ""),
               f"api/me without a token -> {bare.status_code} {bare.headers.get('WWW-Authenticate')}")

    def pkce_enforced(self) -> None:
        sess = self.session("spa", None, "none")
        verifier = generate_token(48)
        url, _ = sess.create_authorization_url(self.meta["authorization_endpoint"],
                                               code_verifier=verifier, nonce=generate_token(20))
        back = log_in_at_provider(url, "bob")
        code = query_of(back)["code"]
        r = show(requests.post(self.meta["token_endpoint"], data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": "spa", "code_verifier": generate_token(48),
        }, timeout=15))
        expect(r.status_code == 400 and r.json().get("error") == "invalid_grant",
               f"wrong code_verifier -> {r.status_code} {r.text}")


# ---------------------------------------------------------------------------
# OAuth 1.0a with requests-oauthlib


class OAuth1Checks:
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def session(self, method: str, **kw) -> OAuth1Session:
        return OAuth1Session("consumer", client_secret="consumer-secret", signature_method=method, **kw)

    def login(self, method: str) -> None:
        sess = self.session(method, callback_uri=OAUTH1_CALLBACK)
        temp = sess.fetch_request_token(self.issuer + "/oauth1/request_token")
        expect(temp.get("oauth_token") and temp.get("oauth_token_secret"), f"request token {temp}")
        url = sess.authorization_url(self.issuer + "/oauth1/authorize")
        back = log_in_at_provider(url, "alice")
        expect(back.startswith(OAUTH1_CALLBACK + "?"), f"redirected to {back}")
        verified = sess.parse_authorization_response(back)
        expect(verified.get("oauth_token") == temp["oauth_token"] and verified.get("oauth_verifier"),
               f"callback {verified}")
        access = sess.fetch_access_token(self.issuer + "/oauth1/access_token")
        expect(access.get("oauth_token") and access.get("oauth_token") != temp["oauth_token"],
               f"access token {access}")

        me = show(sess.get(self.issuer + "/oauth1/api/me", params={"q": "a b&c=d", "caf\u00e9": "\u2603"},
                           timeout=15))
        expect(me.status_code == 200, f"api/me -> {me.status_code}: {me.text}")
        body = me.json()
        expect(body.get("user_id") == "alice" and body.get("consumer_key") == "consumer", f"api/me {body}")
        expect(body.get("user", {}).get("email") == "alice@example.com", f"api/me user {body}")
        posted = show(sess.post(self.issuer + "/oauth1/api/me", data={"note": "signed form body"}, timeout=15))
        expect(posted.status_code == 200 and posted.json().get("user_id") == "alice",
               f"POST api/me -> {posted.status_code}: {posted.text}")

        # A request signed with the wrong token secret is refused.
        wrong = self.session(method, resource_owner_key=access["oauth_token"],
                             resource_owner_secret="not-the-secret")
        r = show(wrong.get(self.issuer + "/oauth1/api/me", timeout=15))
        expect(r.status_code == 401, f"wrong token secret -> {r.status_code}: {r.text}")

    def wrong_consumer_secret(self) -> None:
        sess = OAuth1Session("consumer", client_secret="wrong", callback_uri=OAUTH1_CALLBACK)
        r = show(sess.post(self.issuer + "/oauth1/request_token", timeout=15))
        expect(r.status_code == 401 and "oauth_problem=" in r.text, f"wrong secret -> {r.status_code}: {r.text}")


def main() -> int:
    global VERBOSE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cargo", default=os.environ.get("CARGO", "cargo"), help="cargo binary")
    parser.add_argument("--verbose", action="store_true", help="print every HTTP exchange")
    args = parser.parse_args()
    VERBOSE = args.verbose
    started = time.monotonic()
    passed = failed = 0

    def run(name: str, fn, *a) -> None:
        nonlocal passed, failed
        t0 = time.monotonic()
        try:
            fn(*a)
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
        else:
            passed += 1
            print(f"ok   {name} ({time.monotonic() - t0:.2f}s)", flush=True)

    try:
        server = DevServer(args.cargo)
    except CheckFailed as e:
        print(f"FAIL starting the development provider: {e}")
        print("testkit-client check: 0 passed, 1 failed")
        return 1
    print(f"development provider at {server.issuer}", flush=True)
    try:
        try:
            oidc = OidcChecks(server.issuer)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL oidc discovery and JWKS: {type(e).__name__}: {e}")
        else:
            passed += 1
            print("ok   oidc discovery and JWKS")
            run("oidc Authlib code+PKCE, client_secret_basic, RS256 ID token, userinfo, refresh",
                oidc.login, "web", "web-secret", "client_secret_basic", "RS256")
            run("oidc Authlib code+PKCE, client_secret_post, ES256 ID token, userinfo, refresh",
                oidc.login, "web-post", "web-secret", "client_secret_post", "ES256")
            run("oidc public client: a wrong code_verifier is refused", oidc.pkce_enforced)
        oauth1 = OAuth1Checks(server.issuer)
        for method in (SIGNATURE_HMAC_SHA1, SIGNATURE_PLAINTEXT):
            run(f"oauth1 requests-oauthlib {method}: request token, login, access token, signed GET and POST",
                oauth1.login, method)
        run("oauth1 a wrong consumer secret is refused", oauth1.wrong_consumer_secret)
    finally:
        server.stop()
        if failed or VERBOSE:
            print("---- dev_server output ----", file=sys.stderr)
            print("\n".join(server.log_lines), file=sys.stderr, flush=True)
    print(f"testkit-client check: {passed} passed, {failed} failed ({time.monotonic() - started:.2f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
