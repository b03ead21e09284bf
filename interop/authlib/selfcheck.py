#!/usr/bin/env python3
"""Self-check for the Authlib interop peer, driven by an independent client
(requests-oauthlib / oauthlib for OAuth 1.0a, requests + joserfc for OAuth 2).

When a ferroauth interop test against provider.py fails, run this: if it
passes, the provider is fine and the fault is on the Rust side.

    interop/.venv/bin/python interop/authlib/selfcheck.py [--verbose]

It starts provider.py on a free port with its own clients file (using the
same python it runs under), runs every check and stops that provider only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey
from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER, SIGNATURE_TYPE_BODY, SIGNATURE_TYPE_QUERY
from requests_oauthlib import OAuth1

HERE = os.path.dirname(os.path.abspath(__file__))
PROVIDER = os.path.join(HERE, "provider.py")
CALLBACK = "http://127.0.0.1:9/oauth1/cb"  # never contacted
REDIRECT = "http://127.0.0.1:9/oauth2/cb"

VERBOSE = False


class CheckFailed(Exception):
    pass


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise CheckFailed(what)


def show(resp: requests.Response) -> requests.Response:
    if VERBOSE:
        print(f"  .. {resp.request.method} {resp.request.url} -> {resp.status_code} "
              f"{resp.headers.get('Location') or resp.text[:120]}", file=sys.stderr)
    return resp


def form(resp: requests.Response) -> dict:
    return dict(urllib.parse.parse_qsl(resp.text, keep_blank_values=True))


def query_of(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


# ---------------------------------------------------------------------------
# Provider process


class Provider:
    def __init__(self, clients_file: str):
        self.log_lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, PROVIDER, "--clients", clients_file, "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)
        line = got[0] if got else ""
        if not line.startswith("READY "):
            self.stop()
            raise CheckFailed(f"provider did not print READY (got {line!r}); log:\n" + "\n".join(self.log_lines))
        self.url = line.split(" ", 1)[1].strip()

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log_lines.append(line.rstrip("\n"))

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


# ---------------------------------------------------------------------------
# OAuth 1.0a


class OAuth1Checks:
    def __init__(self, base: str, clients: dict, rsa_private_pem: str):
        self.base = base
        self.clients = clients
        self.rsa_private_pem = rsa_private_pem

    def auth(self, method: str, sig_type: str, **kw) -> OAuth1:
        if method == "RSA-SHA1":
            return OAuth1("rsa-consumer", signature_method=method, signature_type=sig_type,
                          rsa_key=self.rsa_private_pem, **kw)
        return OAuth1("hmac-consumer", client_secret=self.clients["hmac-consumer"]["client_secret"],
                      signature_method=method, signature_type=sig_type, **kw)

    def post(self, path: str, auth: OAuth1, data: dict | None = None, sig_type: str = "") -> requests.Response:
        # With the body signature type the protocol parameters travel in a
        # form-encoded body, so make sure there is one.
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if sig_type == SIGNATURE_TYPE_BODY else {}
        return show(requests.post(self.base + path, auth=auth, data=data or {}, headers=headers,
                                  allow_redirects=False, timeout=15))

    def request_token(self, method: str, sig_type: str, callback: str = CALLBACK) -> dict:
        r = self.post("/oauth1/request_token", self.auth(method, sig_type, callback_uri=callback), sig_type=sig_type)
        expect(r.status_code == 200, f"request_token -> {r.status_code}: {r.text}")
        t = form(r)
        expect(t.get("oauth_callback_confirmed", "").lower() == "true", f"callback not confirmed: {t}")
        expect(t.get("oauth_token") and t.get("oauth_token_secret"), f"request_token body: {t}")
        return t

    def authorize(self, token: str, **params) -> requests.Response:
        return show(requests.get(self.base + "/oauth1/authorize", params={"oauth_token": token, **params},
                                 allow_redirects=False, timeout=15))

    def login(self, method: str, sig_type: str, user: str) -> dict:
        t = self.request_token(method, sig_type)
        r = self.authorize(t["oauth_token"], user=user)
        expect(r.status_code == 302, f"authorize -> {r.status_code}")
        loc = r.headers["Location"]
        expect(loc.startswith(CALLBACK + "?"), f"authorize redirected to {loc}")
        q = query_of(loc)
        expect(q.get("oauth_token") == t["oauth_token"] and q.get("oauth_verifier"), f"callback query {q}")
        auth = self.auth(method, sig_type, resource_owner_key=t["oauth_token"],
                         resource_owner_secret=t["oauth_token_secret"], verifier=q["oauth_verifier"])
        r = self.post("/oauth1/access_token", auth, sig_type=sig_type)
        expect(r.status_code == 200, f"access_token -> {r.status_code}: {r.text}")
        a = form(r)
        expect(a.get("user_id") == f"uid-{user}" and a.get("screen_name") == user, f"access_token body {a}")
        # The temporary credential is single-use.
        r = self.post("/oauth1/access_token", auth, sig_type=sig_type)
        expect(r.status_code in (400, 401), f"reused temporary token -> {r.status_code}")
        return a

    def api_me(self, method: str, sig_type: str, token: dict, params: dict) -> requests.Response:
        auth = self.auth(method, sig_type, resource_owner_key=token["oauth_token"],
                         resource_owner_secret=token["oauth_token_secret"])
        if sig_type == SIGNATURE_TYPE_BODY:
            return self.post("/oauth1/api/me?from=query", auth, data=params, sig_type=sig_type)
        return show(requests.get(self.base + "/oauth1/api/me", params=params, auth=auth, timeout=15))

    def full_flow(self, method: str, sig_type: str) -> None:
        user = f"user{secrets.randbelow(1000)}"
        tok = self.login(method, sig_type, user)
        params = {"q": "a b&c=d", "empty": "", "unicode": "caf\u00e9 \u2603"}
        r = self.api_me(method, sig_type, tok, params)
        expect(r.status_code == 200, f"api/me -> {r.status_code}: {r.text}")
        body = r.json()
        want = dict(params)
        if sig_type == SIGNATURE_TYPE_BODY:
            want["from"] = "query"
        expect(body["user_id"] == f"uid-{user}" and body["screen_name"] == user, f"api/me user {body}")
        expect(body["params"] == want, f"api/me params {body['params']} != {want}")

    def deny(self) -> None:
        t = self.request_token("HMAC-SHA1", SIGNATURE_TYPE_AUTH_HEADER)
        r = self.authorize(t["oauth_token"], deny="1")
        expect(r.status_code == 302 and query_of(r.headers["Location"]) == {"denied": t["oauth_token"]},
               f"deny=1 -> {r.status_code} {r.headers.get('Location')}")
        r = self.authorize(t["oauth_token"])
        expect(r.status_code == 401 or r.status_code == 400, f"denied token still authorizable: {r.status_code}")
        t = self.request_token("HMAC-SHA1", SIGNATURE_TYPE_AUTH_HEADER)
        r = self.authorize(t["oauth_token"], deny="error")
        expect(r.status_code == 302 and query_of(r.headers["Location"]).get("error") == "access_denied",
               f"deny=error -> {r.status_code} {r.headers.get('Location')}")

    def oob(self) -> None:
        # oob falls back to the client's first registered redirect URI.
        t = self.request_token("HMAC-SHA1", SIGNATURE_TYPE_AUTH_HEADER, callback="oob")
        r = self.authorize(t["oauth_token"])
        expect(r.status_code == 302 and r.headers["Location"].startswith(CALLBACK),
               f"oob authorize -> {r.status_code} {r.headers.get('Location')}")
        # ... and to a 200 "PIN" page without one.
        r = self.post("/oauth1/request_token",
                      OAuth1("pin-consumer", client_secret=self.clients["pin-consumer"]["client_secret"],
                             callback_uri="oob"))
        t = form(r)
        r = self.authorize(t["oauth_token"])
        expect(r.status_code == 200 and form(r).get("oauth_verifier"), f"PIN page -> {r.status_code} {r.text}")

    def errors(self) -> None:
        tok = self.login("HMAC-SHA1", SIGNATURE_TYPE_AUTH_HEADER, "mallory")
        bad = OAuth1("hmac-consumer", client_secret=self.clients["hmac-consumer"]["client_secret"],
                     resource_owner_key=tok["oauth_token"], resource_owner_secret="wrong")
        r = show(requests.get(self.base + "/oauth1/api/me", auth=bad, timeout=15))
        expect(r.status_code == 401 and r.json().get("error") == "invalid_signature",
               f"wrong token secret -> {r.status_code} {r.text}")
        # Replay: the very same signed request twice.
        good = OAuth1("hmac-consumer", client_secret=self.clients["hmac-consumer"]["client_secret"],
                      resource_owner_key=tok["oauth_token"], resource_owner_secret=tok["oauth_token_secret"])
        prepared = requests.Request("GET", self.base + "/oauth1/api/me", auth=good).prepare()
        with requests.Session() as s:
            first, second = s.send(prepared), s.send(prepared)
        expect(first.status_code == 200, f"first of replayed pair -> {first.status_code} {first.text}")
        expect(second.status_code == 401 and second.json().get("error") == "invalid_nonce",
               f"replayed nonce -> {second.status_code} {second.text}")
        # Stale timestamp.
        stale = OAuth1("hmac-consumer", client_secret=self.clients["hmac-consumer"]["client_secret"],
                       resource_owner_key=tok["oauth_token"], resource_owner_secret=tok["oauth_token_secret"],
                       timestamp=str(int(time.time()) - 3600))
        r = show(requests.get(self.base + "/oauth1/api/me", auth=stale, timeout=15))
        expect(r.status_code == 400, f"stale timestamp -> {r.status_code} {r.text}")
        # Missing oauth_callback on the request token.
        r = self.post("/oauth1/request_token", self.auth("HMAC-SHA1", SIGNATURE_TYPE_AUTH_HEADER))
        expect(r.status_code == 400 and form(r).get("error") == "missing_required_parameter",
               f"request_token without callback -> {r.status_code} {r.text}")


# ---------------------------------------------------------------------------
# OAuth 2.0 / OIDC


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OAuth2Checks:
    def __init__(self, base: str, clients: dict):
        self.base = base
        self.clients = clients
        self.meta = show(requests.get(base + "/.well-known/openid-configuration", timeout=15)).json()
        expect(self.meta["issuer"] == base, f"issuer {self.meta['issuer']} != {base}")
        self.jwks = KeySet.import_key_set(show(requests.get(self.meta["jwks_uri"], timeout=15)).json())

    def authorize(self, client_id: str, user: str, scope: str, pkce: bool = True, **extra) -> tuple[dict, dict]:
        state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
        verifier = b64url(secrets.token_bytes(32))
        params = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
                  "scope": scope, "state": state, "nonce": nonce, "user": user, **extra}
        if pkce:
            params |= {"code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
                       "code_challenge_method": "S256"}
        r = show(requests.get(self.meta["authorization_endpoint"], params=params, allow_redirects=False, timeout=15))
        expect(r.status_code == 302, f"authorize -> {r.status_code} {r.text}")
        loc = r.headers["Location"]
        expect(loc.startswith(REDIRECT + "?"), f"authorize redirected to {loc}")
        q = query_of(loc)
        expect(q.get("state") == state and q.get("iss") == self.base, f"callback state/iss {q}")
        return q, {"verifier": verifier, "nonce": nonce}

    def token(self, client_id: str, data: dict) -> requests.Response:
        c = self.clients[client_id]
        method = c["token_endpoint_auth_method"]
        auth = None
        data = dict(data)
        if method == "client_secret_basic":
            auth = (client_id, c["client_secret"])
        elif method == "client_secret_post":
            data |= {"client_id": client_id, "client_secret": c["client_secret"]}
        else:
            data |= {"client_id": client_id}
        return show(requests.post(self.meta["token_endpoint"], data=data, auth=auth, timeout=15))

    def code_flow(self, client_id: str, user: str, scope: str) -> dict:
        q, ctx = self.authorize(client_id, user, scope)
        r = self.token(client_id, {"grant_type": "authorization_code", "code": q["code"],
                                   "redirect_uri": REDIRECT, "code_verifier": ctx["verifier"]})
        expect(r.status_code == 200, f"token -> {r.status_code} {r.text}")
        tok = r.json()
        key = self.jwks
        alg = self.clients[client_id].get("id_token_signed_response_alg", "RS256")
        if alg == "HS256":
            key = OctKey.import_key(self.clients[client_id]["client_secret"])
        idt = jwt.decode(tok["id_token"], key, algorithms=[alg])
        c = idt.claims
        expect(c["iss"] == self.base and c["aud"] == client_id and c["sub"] == user, f"id_token claims {c}")
        expect(c["nonce"] == ctx["nonce"] and "at_hash" in c and c["exp"] > time.time(), f"id_token claims {c}")
        expect(c.get("email") == f"{user}@example.test" or "email" not in scope, f"id_token email {c}")
        return tok

    def confidential(self) -> None:
        tok = self.code_flow("web-basic", "alice", "openid email profile")
        expect("refresh_token" in tok, "no refresh token for a client with the refresh_token grant")
        r = show(requests.get(self.meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tok['access_token']}"},
                              timeout=15))
        want = {"sub": "alice", "email": "alice@example.test", "email_verified": True, "name": "Alice Example",
                "given_name": "Alice", "family_name": "Example", "preferred_username": "alice"}
        expect(r.status_code == 200 and r.json() == want, f"userinfo -> {r.status_code} {r.text}")
        r = show(requests.get(self.base + "/oauth2/api/me", headers={"Authorization": f"Bearer {tok['access_token']}"},
                              timeout=15))
        expect(r.status_code == 200 and r.json()["sub"] == "alice", f"api/me -> {r.status_code} {r.text}")
        # Refresh with rotation.
        r = self.token("web-basic", {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        expect(r.status_code == 200, f"refresh -> {r.status_code} {r.text}")
        new = r.json()
        expect(new.get("refresh_token") not in (None, tok["refresh_token"]), "refresh token not rotated")
        r = self.token("web-basic", {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        expect(r.status_code == 400 and r.json()["error"] == "invalid_grant", f"old refresh -> {r.status_code}")
        # Revocation kills the access token.
        r = show(requests.post(self.meta["revocation_endpoint"], data={"token": new["access_token"]},
                               auth=("web-basic", self.clients["web-basic"]["client_secret"]), timeout=15))
        expect(r.status_code == 200, f"revoke -> {r.status_code} {r.text}")
        r = show(requests.get(self.meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {new['access_token']}"},
                              timeout=15))
        expect(r.status_code == 401, f"userinfo after revoke -> {r.status_code}")

    def post_and_public(self) -> None:
        self.code_flow("web-post", "bob", "openid email")
        tok = self.code_flow("spa-public", "carol", "openid profile")
        expect("refresh_token" not in tok, "public client without refresh grant got a refresh token")
        # Public clients must use PKCE.
        q, _ = self.authorize("spa-public", "carol", "openid", pkce=False)
        r = self.token("spa-public", {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT})
        expect(r.status_code == 400, f"public client without code_verifier -> {r.status_code} {r.text}")

    def denied_and_errors(self) -> None:
        q, _ = self.authorize("web-basic", "alice", "openid", deny="1")
        expect(q.get("error") == "access_denied", f"deny -> {q}")
        r = show(requests.post(self.meta["token_endpoint"], data={"grant_type": "authorization_code", "code": "x",
                                                                 "redirect_uri": REDIRECT},
                               auth=("web-basic", "wrong"), timeout=15))
        expect(r.status_code == 401 and r.json()["error"] == "invalid_client", f"wrong secret -> {r.status_code}")


# ---------------------------------------------------------------------------


def make_clients(tmp: str) -> tuple[str, dict, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    clients = [
        {"client_id": "hmac-consumer", "client_secret": "hmac secret/with+specials&=", "redirect_uris": [CALLBACK],
         "rsa_public_key": None},
        {"client_id": "rsa-consumer", "client_secret": None, "redirect_uris": [CALLBACK],
         "rsa_public_key": public_pem},
        {"client_id": "pin-consumer", "client_secret": "pin-secret", "redirect_uris": [], "rsa_public_key": None},
        {"client_id": "web-basic", "client_secret": "basic-secret", "redirect_uris": [REDIRECT],
         "token_endpoint_auth_method": "client_secret_basic", "id_token_signed_response_alg": "RS256"},
        {"client_id": "web-post", "client_secret": "post-secret-0123456789abcdef0123456789", "redirect_uris": [REDIRECT],
         "token_endpoint_auth_method": "client_secret_post", "id_token_signed_response_alg": "HS256"},
        {"client_id": "spa-public", "client_secret": None, "redirect_uris": [REDIRECT],
         "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"],
         "id_token_signed_response_alg": "ES256"},
    ]
    path = os.path.join(tmp, "clients.json")
    with open(path, "w") as f:
        json.dump(clients, f)
    return path, {c["client_id"]: c for c in clients}, private_pem


def main() -> int:
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verbose", "-v", action="store_true")
    VERBOSE = ap.parse_args().verbose

    started = time.monotonic()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="ferroauth-authlib-selfcheck-") as tmp:
        clients_file, clients, private_pem = make_clients(tmp)
        try:
            provider = Provider(clients_file)
        except (CheckFailed, OSError) as e:
            print(f"FAIL start: {e}")
            print("0 passed, 1 failed")
            return 1
        print(f"authlib provider at {provider.url} (ready in {time.monotonic() - started:.2f}s)")

        def run(name, fn, *args):
            nonlocal passed, failed
            t0 = time.monotonic()
            try:
                fn(*args)
            except (CheckFailed, requests.RequestException, KeyError, ValueError) as e:
                failed += 1
                print(f"FAIL {name}: {type(e).__name__}: {e}")
            else:
                passed += 1
                print(f"ok   {name} ({time.monotonic() - t0:.2f}s)")

        try:
            o1 = OAuth1Checks(provider.url, clients, private_pem)
            for method in ("HMAC-SHA1", "PLAINTEXT", "RSA-SHA1"):
                for sig_type in (SIGNATURE_TYPE_AUTH_HEADER, SIGNATURE_TYPE_QUERY, SIGNATURE_TYPE_BODY):
                    run(f"oauth1 {method} in {sig_type}: request token, authorize, access token, api/me",
                        o1.full_flow, method, sig_type)
            run("oauth1 deny (denied=<token>, error=access_denied)", o1.deny)
            run("oauth1 oob callback and PIN page", o1.oob)
            run("oauth1 wrong secret, nonce replay, stale timestamp, missing callback", o1.errors)
            try:
                o2 = OAuth2Checks(provider.url, clients)
            except (CheckFailed, requests.RequestException, KeyError, ValueError) as e:
                failed += 1
                print(f"FAIL oauth2 discovery: {type(e).__name__}: {e}")
            else:
                run("oauth2 code+PKCE basic: id_token, userinfo, api/me, refresh rotation, revoke", o2.confidential)
                run("oauth2 code+PKCE post (HS256) and public (ES256), PKCE enforced", o2.post_and_public)
                run("oauth2 deny and wrong secret", o2.denied_and_errors)
        finally:
            rc = provider.stop()
        if rc != 0:
            failed += 1
            print(f"FAIL provider exit code on SIGTERM: {rc}")
        sys.stdout.flush()
        if failed or VERBOSE:
            print("---- provider log ----", file=sys.stderr)
            print("\n".join(provider.log_lines), file=sys.stderr, flush=True)
    print(f"authlib selfcheck: {passed} passed, {failed} failed ({time.monotonic() - started:.2f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
