#!/usr/bin/env python3
"""ferroauth interop peer: a small in-memory OAuth 1.0a + OAuth 2.0/OIDC
provider built on Authlib's Flask server integrations.

Usage
-----
    python interop/authlib/provider.py --clients FILE.json [--port N]
           [--access-token-ttl SECONDS]

* stdout carries exactly one line, ``READY http://127.0.0.1:<port>``, once the
  server accepts connections. That URL is also the OIDC issuer.
* Everything else (request log, errors) goes to stderr.
* Bad arguments or a bad clients file: a message on stderr and exit code 2.
* SIGTERM / SIGINT: the server stops and the process exits with 0.

Clients file
------------
A JSON array; each entry serves both protocols::

    {
      "client_id": "app",                 # required; OAuth 1 consumer key too
      "client_secret": "s3cret" | null,   # OAuth 1 consumer secret / OAuth 2 secret
      "redirect_uris": ["http://127.0.0.1:9/cb"],
                                          # OAuth 2: exact-match allow list.
                                          # OAuth 1: the first one is used when
                                          # the request token asked for "oob".
      "rsa_public_key": "-----BEGIN PUBLIC KEY-----..." | null,
                                          # OAuth 1 RSA-SHA1 (PEM, SPKI or PKCS#1)
      "token_endpoint_auth_method": "client_secret_basic" | "client_secret_post" | "none",
                                          # default: client_secret_basic, or none
                                          # when there is no secret. Enforced
                                          # strictly at /oauth2/token.
      # optional:
      "grant_types": ["authorization_code", "refresh_token"],   # default
      "response_types": ["code"],                               # default
      "id_token_signed_response_alg": "RS256" | "PS256" | "ES256" | "HS256"  # default RS256
    }

Users
-----
There is no password: any user name is accepted. A user ``NAME`` has
OAuth 1 ``user_id`` = ``uid-NAME`` and ``screen_name`` = ``NAME``; for OIDC
``sub`` = ``NAME``, ``email`` = ``NAME@example.test``, ``email_verified`` =
true, ``name`` = ``Name Example``, ``given_name`` = ``Name``, ``family_name``
= ``Example``, ``preferred_username`` = ``NAME``.

OAuth 1.0a (RFC 5849) endpoints
-------------------------------
* ``POST /oauth1/request_token`` - needs ``oauth_callback`` (absolute URL or
  ``oob``). Answers ``oauth_token=..&oauth_token_secret=..&oauth_callback_confirmed=True``
  (Authlib writes a capital ``True``).
* ``GET  /oauth1/authorize?oauth_token=T[&user=NAME][&deny=1|&deny=error]`` -
  auto-approves as NAME (default ``alice``): ``302 <callback>?oauth_token=T&oauth_verifier=V``.
  ``deny=1``: ``302 <callback>?denied=T``; ``deny=error``: ``302 <callback>?error=access_denied``.
  With ``--approval-page`` a request without ``approved=1`` first gets an HTML page
  whose "Allow" button (``#approve``) repeats it with ``approved=1`` and a ``user``
  field: a person's click on the provider's own site, as real providers ask for.
  With ``oob`` and no registered redirect URI: ``200`` form-encoded
  ``oauth_token=T&oauth_verifier=V`` (the "PIN" page).
* ``POST /oauth1/access_token`` - needs ``oauth_verifier``. Answers
  ``oauth_token=..&oauth_token_secret=..&user_id=uid-NAME&screen_name=NAME``.
  Any failure deletes the temporary credential (temporary tokens are single use).
* ``GET|POST /oauth1/api/me`` - protected resource: JSON
  ``{"user_id", "screen_name", "client_id", "method", "params": {name: value},
  "param_pairs": [[name, value], ...]}`` where the params are the request's
  non-``oauth_`` query and form-body parameters in order (``params`` keeps the
  last value of a repeated name).

Signature methods HMAC-SHA1, PLAINTEXT and RSA-SHA1; protocol parameters in the
Authorization header, the query string or the form body; nonces are remembered
and timestamps older than 300 s are refused. Token endpoint errors are
form-encoded, resource errors JSON.

OAuth 2.0 / OIDC endpoints
--------------------------
* ``GET /.well-known/openid-configuration`` (also ``/.well-known/oauth-authorization-server``)
* ``GET /oauth2/authorize`` - code flow, auto-approves as ``user`` or
  ``login_hint`` (default ``alice``); ``deny=1`` gives ``error=access_denied``.
  Responses are 302 and carry ``iss`` (RFC 9207), errors too. PKCE S256 or
  plain; required for public clients (``none``), optional for confidential ones.
* ``POST /oauth2/token`` - ``authorization_code`` (with OpenID ``id_token``
  when the scope has ``openid``) and ``refresh_token`` (rotation: a new refresh
  token each time, the old one is dead; no new ``id_token``). A refresh token is
  issued when the client has the ``refresh_token`` grant type.
* ``GET|POST /oauth2/userinfo`` - bearer token with ``openid`` scope.
* ``POST /oauth2/revoke`` - RFC 7009 (client authenticated like at the token endpoint).
* ``GET /oauth2/jwks`` - RS256/PS256 RSA-2048 key and ES256 P-256 key,
  generated at every start.
* ``GET /oauth2/api/me`` - bearer protected: ``{"sub", "client_id", "scope"}``.
"""

from __future__ import annotations

import argparse
import hmac
import html
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time

# Authlib refuses plain-http URLs unless told otherwise; this server only ever
# listens on 127.0.0.1.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

from authlib.common.urls import add_params_to_uri, url_encode  # noqa: E402
from authlib.integrations.flask_oauth1 import AuthorizationServer as OAuth1Server  # noqa: E402
from authlib.integrations.flask_oauth1 import ResourceProtector as OAuth1Protector  # noqa: E402
from authlib.integrations.flask_oauth1 import current_credential  # noqa: E402
from authlib.integrations.flask_oauth2 import AuthorizationServer as OAuth2Server  # noqa: E402
from authlib.integrations.flask_oauth2 import ResourceProtector as OAuth2Protector  # noqa: E402
from authlib.integrations.flask_oauth2 import current_token  # noqa: E402
from authlib.oauth1 import ClientMixin as OAuth1ClientMixin  # noqa: E402
from authlib.oauth1 import OAuth1Request  # noqa: E402
from authlib.oauth1 import TemporaryCredentialMixin, TokenCredentialMixin  # noqa: E402
from authlib.oauth1.errors import OAuth1Error  # noqa: E402
from authlib.oauth2 import OAuth2Error  # noqa: E402
from authlib.oauth2.rfc6749 import ClientMixin as OAuth2ClientMixin  # noqa: E402
from authlib.oauth2.rfc6749 import TokenMixin, grants  # noqa: E402
from authlib.oauth2.rfc6750 import BearerTokenValidator  # noqa: E402
from authlib.oauth2.rfc7009 import RevocationEndpoint  # noqa: E402
from authlib.oauth2.rfc7636 import CodeChallenge  # noqa: E402
from authlib.oidc.core import UserInfo, UserInfoEndpoint  # noqa: E402
from authlib.oidc.core.grants import OpenIDCode  # noqa: E402
from authlib.oidc.core.models import AuthorizationCodeMixin  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import load_pem_public_key  # noqa: E402
from flask import Flask, Response, g, jsonify, redirect, request  # noqa: E402
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

log = logging.getLogger("authlib-provider")

SCOPES = ["openid", "email", "profile", "offline_access"]
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
ID_TOKEN_ALGS = ("RS256", "PS256", "ES256", "HS256")
CODE_TTL = 60
ID_TOKEN_TTL = 3600

STATE = threading.RLock()  # guards every in-memory store below


def die(message: str) -> None:
    print(f"authlib provider: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


# ---------------------------------------------------------------------------
# Users


def user_claims(name: str) -> dict:
    given = name[:1].upper() + name[1:]
    return {
        "sub": name,
        "email": f"{name}@example.test",
        "email_verified": True,
        "name": f"{given} Example",
        "given_name": given,
        "family_name": "Example",
        "preferred_username": name,
    }


def oauth1_user_id(name: str) -> str:
    return f"uid-{name}"


# ---------------------------------------------------------------------------
# Clients (one record serves OAuth 1 and OAuth 2)


class Client(OAuth1ClientMixin, OAuth2ClientMixin):
    def __init__(self, raw: dict, index: int):
        def bad(msg: str) -> None:
            die(f"clients file entry {index}: {msg}")

        if not isinstance(raw, dict):
            bad("must be an object")
        self.client_id = raw.get("client_id")
        if not isinstance(self.client_id, str) or not self.client_id:
            bad("client_id must be a non-empty string")
        self.client_secret = raw.get("client_secret") or None
        if self.client_secret is not None and not isinstance(self.client_secret, str):
            bad("client_secret must be a string or null")
        self.redirect_uris = raw.get("redirect_uris") or []
        if not isinstance(self.redirect_uris, list) or not all(isinstance(u, str) for u in self.redirect_uris):
            bad("redirect_uris must be a list of strings")
        self.rsa_public_key = raw.get("rsa_public_key") or None
        if self.rsa_public_key is not None:
            if not isinstance(self.rsa_public_key, str):
                bad("rsa_public_key must be a PEM string or null")
            try:
                key = load_pem_public_key(self.rsa_public_key.encode())
            except ValueError as err:
                bad(f"rsa_public_key is not a PEM public key: {err}")
            if not isinstance(key, RSAPublicKey):
                bad("rsa_public_key must be an RSA key")
        default_method = "client_secret_basic" if self.client_secret else "none"
        self.token_endpoint_auth_method = raw.get("token_endpoint_auth_method") or default_method
        if self.token_endpoint_auth_method not in AUTH_METHODS:
            bad(f"token_endpoint_auth_method must be one of {AUTH_METHODS}")
        if self.token_endpoint_auth_method != "none" and not self.client_secret:
            bad(f"{self.token_endpoint_auth_method} needs a client_secret")
        self.grant_types = raw.get("grant_types") or ["authorization_code", "refresh_token"]
        self.response_types = raw.get("response_types") or ["code"]
        self.id_token_signed_response_alg = raw.get("id_token_signed_response_alg") or "RS256"
        if self.id_token_signed_response_alg not in ID_TOKEN_ALGS:
            bad(f"id_token_signed_response_alg must be one of {ID_TOKEN_ALGS}")
        if self.id_token_signed_response_alg == "HS256" and not self.client_secret:
            bad("HS256 ID tokens need a client_secret")
        # Read by Authlib's UserInfoEndpoint.
        self.client_metadata = {k: v for k, v in raw.items() if k != "client_secret"}

    # -- shared
    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    # -- OAuth 1
    def get_client_secret(self):
        return self.client_secret

    def get_rsa_public_key(self):
        return self.rsa_public_key

    # -- OAuth 2
    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return self.client_secret is not None and hmac.compare_digest(
            self.client_secret.encode(), (client_secret or "").encode())

    def check_endpoint_auth_method(self, method, endpoint):
        if endpoint == "token":
            return method == self.token_endpoint_auth_method
        return True

    def check_response_type(self, response_type):
        return response_type in self.response_types

    def check_grant_type(self, grant_type):
        return grant_type in self.grant_types


CLIENTS: dict[str, Client] = {}


def query_client(client_id):
    return CLIENTS.get(client_id)


# ---------------------------------------------------------------------------
# OAuth 1.0a


class TemporaryCredential(TemporaryCredentialMixin):
    def __init__(self, oauth_token, oauth_token_secret, client_id, callback):
        self.oauth_token = oauth_token
        self.oauth_token_secret = oauth_token_secret
        self.client_id = client_id
        self.callback = callback
        self.user = None
        self.verifier = None
        self.created = time.time()

    def get_client_id(self):
        return self.client_id

    def get_redirect_uri(self):
        return self.callback

    def check_verifier(self, verifier):
        return self.verifier is not None and hmac.compare_digest(self.verifier.encode(), (verifier or "").encode())

    def get_oauth_token(self):
        return self.oauth_token

    def get_oauth_token_secret(self):
        return self.oauth_token_secret


class TokenCredential(TokenCredentialMixin):
    def __init__(self, oauth_token, oauth_token_secret, client_id, user):
        self.oauth_token = oauth_token
        self.oauth_token_secret = oauth_token_secret
        self.client_id = client_id
        self.user = user

    def get_oauth_token(self):
        return self.oauth_token

    def get_oauth_token_secret(self):
        return self.oauth_token_secret


TEMP_CREDENTIALS: dict[str, TemporaryCredential] = {}
TOKEN_CREDENTIALS: dict[str, TokenCredential] = {}
NONCES: dict[tuple, float] = {}
NONCE_WINDOW = 600  # longer than Authlib's 300 s timestamp window


def exists_nonce(nonce, timestamp, client_id, token):
    """True when seen before; records it otherwise (check-and-set)."""
    key = (client_id, token or "", str(timestamp or ""), nonce)
    now = time.time()
    with STATE:
        for k in [k for k, t in NONCES.items() if now - t > NONCE_WINDOW]:
            del NONCES[k]
        if key in NONCES:
            return True
        NONCES[key] = now
        return False


def create_temporary_credential(token, client_id, redirect_uri):
    cred = TemporaryCredential(token["oauth_token"], token["oauth_token_secret"], client_id, redirect_uri)
    with STATE:
        TEMP_CREDENTIALS[cred.oauth_token] = cred
    return cred


def get_temporary_credential(oauth_token):
    with STATE:
        cred = TEMP_CREDENTIALS.get(oauth_token)
        if cred and time.time() - cred.created > 600:
            del TEMP_CREDENTIALS[oauth_token]
            return None
        return cred


def delete_temporary_credential(oauth_token):
    with STATE:
        TEMP_CREDENTIALS.pop(oauth_token, None)


def create_authorization_verifier(credential, user, verifier):
    with STATE:
        credential.user = user
        credential.verifier = verifier


def create_token_credential(token, temporary_credential):
    cred = TokenCredential(
        token["oauth_token"], token["oauth_token_secret"],
        temporary_credential.get_client_id(), temporary_credential.user,
    )
    with STATE:
        TOKEN_CREDENTIALS[cred.oauth_token] = cred
    g.oauth1_issued_user = cred.user
    return cred


def query_token_credential(client_id, oauth_token):
    with STATE:
        cred = TOKEN_CREDENTIALS.get(oauth_token)
    if cred and cred.client_id == client_id:
        return cred
    return None


def raw_oauth1_inputs():
    """URL and body exactly as received, so repeated parameters and the
    client's percent-encoding survive into the signature base string."""
    url = request.base_url
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    body = None
    if request.method in ("POST", "PUT") and request.mimetype == "application/x-www-form-urlencoded":
        body = request.get_data(as_text=True) or None
    return url, body


class OAuth1AuthorizationServer(OAuth1Server):
    SUPPORTED_SIGNATURE_METHODS = ["HMAC-SHA1", "PLAINTEXT", "RSA-SHA1"]

    def create_oauth1_request(self, req):
        url, body = raw_oauth1_inputs()
        return OAuth1Request(request.method, url, body, request.headers)


class OAuth1ResourceProtector(OAuth1Protector):
    SUPPORTED_SIGNATURE_METHODS = ["HMAC-SHA1", "PLAINTEXT", "RSA-SHA1"]

    def acquire_credential(self):
        url, body = raw_oauth1_inputs()
        req = self.validate_request(request.method, url, body, request.headers)
        g.authlib_server_oauth1_credential = req.credential
        return req.credential


def non_oauth_params() -> list[list[str]]:
    from urllib.parse import parse_qsl

    url, body = raw_oauth1_inputs()
    pairs = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)
    if body:
        pairs += parse_qsl(body, keep_blank_values=True)
    return [[k, v] for k, v in pairs if not k.startswith("oauth_")]


# ---------------------------------------------------------------------------
# OAuth 2.0 / OIDC


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, code, client_id, redirect_uri, scope, user, nonce,
                 code_challenge, code_challenge_method):
        self.code = code
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.user = user
        self.nonce = nonce
        self.code_challenge = code_challenge
        self.code_challenge_method = code_challenge_method
        self.auth_time = int(time.time())

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None

    def is_expired(self):
        return time.time() - self.auth_time > CODE_TTL


class Token(TokenMixin):
    def __init__(self, client_id, user, scope, access_token, refresh_token, expires_in):
        self.client_id = client_id
        self.user = user
        self.scope = scope
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_in = expires_in
        self.issued_at = time.time()
        self.revoked = False

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return CLIENTS[self.client_id]


CODES: dict[str, AuthorizationCode] = {}
ACCESS_TOKENS: dict[str, Token] = {}
REFRESH_TOKENS: dict[str, Token] = {}


def save_token(token: dict, req) -> None:
    user = req.user
    tok = Token(req.client.get_client_id(), user, token.get("scope", ""),
                token["access_token"], token.get("refresh_token"), token.get("expires_in", 3600))
    with STATE:
        ACCESS_TOKENS[tok.access_token] = tok
        if tok.refresh_token:
            REFRESH_TOKENS[tok.refresh_token] = tok


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def save_authorization_code(self, code, req):
        data = req.payload.data
        with STATE:
            CODES[code] = AuthorizationCode(
                code, req.client.get_client_id(), req.payload.redirect_uri, req.scope,
                req.user, data.get("nonce"), data.get("code_challenge"),
                data.get("code_challenge_method"),
            )

    def query_authorization_code(self, code, client):
        with STATE:
            item = CODES.get(code)
        if item and item.client_id == client.get_client_id() and not item.is_expired():
            return item
        return None

    def delete_authorization_code(self, authorization_code):
        with STATE:
            CODES.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        with STATE:
            tok = REFRESH_TOKENS.get(refresh_token)
        if tok and not tok.revoked:
            return tok
        return None

    def authenticate_user(self, refresh_token):
        return refresh_token.user

    def revoke_old_credential(self, refresh_token):
        with STATE:
            refresh_token.revoked = True
            REFRESH_TOKENS.pop(refresh_token.refresh_token, None)


class SigningKeys:
    def __init__(self):
        self.rsa = RSAKey.generate_key(2048, parameters={"kid": f"rsa-{secrets.token_hex(4)}", "use": "sig"})
        self.ec = ECKey.generate_key("P-256", parameters={"kid": f"p256-{secrets.token_hex(4)}", "use": "sig"})

    def for_alg(self, alg: str, client: Client):
        if alg in ("RS256", "PS256"):
            return self.rsa
        if alg == "ES256":
            return self.ec
        if alg == "HS256":
            return OctKey.import_key(client.client_secret)
        raise ValueError(f"unsupported alg {alg}")

    def public_jwks(self) -> dict:
        return KeySet([self.rsa, self.ec]).as_dict(private=False)


KEYS: SigningKeys | None = None
ISSUER = ""


class OpenIDCodeExt(OpenIDCode):
    def exists_nonce(self, nonce, req):
        client_id = req.payload.client_id
        with STATE:
            return any(c.nonce == nonce and c.client_id == client_id for c in CODES.values())

    def generate_user_info(self, user, scope):
        return UserInfo(user_claims(user)).filter(scope)

    def get_client_algorithm(self, client):
        return client.id_token_signed_response_alg

    def resolve_client_private_key(self, client):
        return KEYS.for_alg(client.id_token_signed_response_alg, client)

    def get_encode_header(self, client):
        alg = client.id_token_signed_response_alg
        header = {"alg": alg, "typ": "JWT"}
        if alg != "HS256":
            header["kid"] = KEYS.for_alg(alg, client).kid
        return header

    def get_client_claims(self, client):
        now = int(time.time())
        return {"iss": ISSUER, "aud": client.get_client_id(), "iat": now, "exp": now + ID_TOKEN_TTL}


class UserInfoExt(UserInfoEndpoint):
    def generate_user_info(self, user, scope):
        return UserInfo(user_claims(user)).filter(scope)

    def get_issuer(self):
        return ISSUER

    def resolve_private_key(self):
        return KEYS.rsa


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = list(AUTH_METHODS)

    def query_token(self, token_string, token_type_hint):
        with STATE:
            if token_type_hint != "refresh_token" and token_string in ACCESS_TOKENS:
                return ACCESS_TOKENS[token_string]
            return REFRESH_TOKENS.get(token_string) or ACCESS_TOKENS.get(token_string)

    def revoke_token(self, token, req):
        with STATE:
            token.revoked = True


class BearerValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        with STATE:
            return ACCESS_TOKENS.get(token_string)


# ---------------------------------------------------------------------------
# Flask app


def approval_page(token: str) -> Response:
    """The page a person approves an OAuth 1.0a request on (``--approval-page``)."""
    token = html.escape(token, quote=True)
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Authorize</title></head>'
        '<body><h1>Authorize the application?</h1>'
        '<form method="get" action="/oauth1/authorize">'
        f'<input type="hidden" name="oauth_token" value="{token}">'
        '<input type="hidden" name="approved" value="1">'
        '<label>User <input name="user" value="alice"></label> '
        '<button type="submit" id="approve">Allow</button></form></body></html>'
    )
    return Response(body, status=200, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


def create_app(access_token_ttl: int, approval: bool = False) -> Flask:
    app = Flask("ferroauth-authlib-provider")
    app.config.update(
        OAUTH2_REFRESH_TOKEN_GENERATOR=True,
        OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": access_token_ttl, "refresh_token": access_token_ttl},
        OAUTH2_SCOPES_SUPPORTED=SCOPES,
    )

    # -- OAuth 1.0a
    server1 = OAuth1AuthorizationServer(app, query_client=query_client)
    server1.register_hook("exists_nonce", exists_nonce)
    server1.register_hook("create_temporary_credential", create_temporary_credential)
    server1.register_hook("get_temporary_credential", get_temporary_credential)
    server1.register_hook("delete_temporary_credential", delete_temporary_credential)
    server1.register_hook("create_authorization_verifier", create_authorization_verifier)
    server1.register_hook("create_token_credential", create_token_credential)
    require_oauth1 = OAuth1ResourceProtector(
        app, query_client=query_client, query_token=query_token_credential, exists_nonce=exists_nonce,
    )

    def oauth1_bad_request(err: Exception):
        body = url_encode([("error", "invalid_request"), ("error_description", str(err))])
        return Response(body, status=400, content_type="application/x-www-form-urlencoded")

    @app.post("/oauth1/request_token")
    def oauth1_request_token():
        try:
            return server1.create_temporary_credentials_response()
        except ValueError as err:  # malformed Authorization header or body
            return oauth1_bad_request(err)

    @app.get("/oauth1/authorize")
    def oauth1_authorize():
        user = request.args.get("user") or "alice"
        deny = request.args.get("deny")
        try:
            req = server1.check_authorization_request()
        except OAuth1Error as err:
            return server1.handle_error_response(err)
        cred = req.credential
        if approval and not deny and request.args.get("approved") != "1":
            return approval_page(cred.get_oauth_token())
        callback = cred.get_redirect_uri()
        if not callback or callback == "oob":
            callback = CLIENTS[cred.get_client_id()].get_default_redirect_uri()
        if deny == "error":
            if callback:
                resp = server1.create_authorization_response(grant_user=None)
            else:
                resp = Response("error=access_denied", status=403,
                                content_type="application/x-www-form-urlencoded")
            delete_temporary_credential(cred.get_oauth_token())
            return resp
        if deny:
            delete_temporary_credential(cred.get_oauth_token())
            if not callback:
                return Response(url_encode([("denied", cred.get_oauth_token())]), status=403,
                                content_type="application/x-www-form-urlencoded")
            return redirect(add_params_to_uri(callback, [("denied", cred.get_oauth_token())]), 302)
        if not callback:
            # Out-of-band without a registered redirect URI: show the "PIN".
            req.user = user
            verifier = server1.create_authorization_verifier(req)
            body = url_encode([("oauth_token", cred.get_oauth_token()), ("oauth_verifier", verifier)])
            return Response(body, status=200, content_type="application/x-www-form-urlencoded")
        return server1.create_authorization_response(grant_user=user)

    @app.post("/oauth1/access_token")
    def oauth1_access_token():
        try:
            resp = server1.create_token_response()
        except ValueError as err:
            return oauth1_bad_request(err)
        user = g.get("oauth1_issued_user")
        if resp.status_code == 200 and user is not None:
            extra = url_encode([("user_id", oauth1_user_id(user)), ("screen_name", user)])
            resp.set_data(resp.get_data(as_text=True) + "&" + extra)
        return resp

    @app.route("/oauth1/api/me", methods=["GET", "POST"])
    def oauth1_me():
        try:
            require_oauth1.acquire_credential()
        except OAuth1Error as err:
            return Response(json.dumps(dict(err.get_body())), status=err.status_code,
                            content_type="application/json")
        except ValueError as err:
            return jsonify(error="invalid_request", error_description=str(err)), 400
        cred = current_credential._get_current_object()
        pairs = non_oauth_params()
        return jsonify(
            user_id=oauth1_user_id(cred.user),
            screen_name=cred.user,
            client_id=cred.client_id,
            method=request.method,
            params={k: v for k, v in pairs},
            param_pairs=pairs,
        )

    # -- OAuth 2.0 / OIDC
    server2 = OAuth2Server(app, query_client=query_client, save_token=save_token)
    server2.register_grant(CodeGrant, [CodeChallenge(required=True), OpenIDCodeExt(require_nonce=False)])
    server2.register_grant(RefreshGrant)
    require_oauth2 = OAuth2Protector()
    require_oauth2.register_token_validator(BearerValidator())
    server2.register_endpoint(UserInfoExt(resource_protector=require_oauth2))
    server2.register_endpoint(Revocation)

    def with_iss(resp):
        # RFC 9207: every authorization response redirect carries iss.
        loc = resp.headers.get("Location")
        if 300 <= resp.status_code < 400 and loc:
            resp.headers["Location"] = add_params_to_uri(loc, [("iss", ISSUER)])
        return resp

    @app.get("/oauth2/authorize")
    def oauth2_authorize():
        user = request.args.get("user") or request.args.get("login_hint") or "alice"
        try:
            grant = server2.get_consent_grant(end_user=user)
        except OAuth2Error as err:
            return with_iss(server2.handle_error_response(None, err))
        grant_user = None if request.args.get("deny") else user
        return with_iss(server2.create_authorization_response(grant=grant, grant_user=grant_user))

    @app.post("/oauth2/token")
    def oauth2_token():
        return server2.create_token_response()

    @app.route("/oauth2/userinfo", methods=["GET", "POST"])
    def oauth2_userinfo():
        return server2.create_endpoint_response("userinfo")

    @app.post("/oauth2/revoke")
    def oauth2_revoke():
        return server2.create_endpoint_response("revocation")

    @app.get("/oauth2/jwks")
    def oauth2_jwks():
        return jsonify(KEYS.public_jwks())

    @app.get("/oauth2/api/me")
    @require_oauth2()
    def oauth2_me():
        tok = current_token._get_current_object()
        return jsonify(sub=tok.user, client_id=tok.client_id, scope=tok.scope)

    @app.get("/.well-known/openid-configuration")
    @app.get("/.well-known/oauth-authorization-server")
    def discovery():
        return jsonify(
            issuer=ISSUER,
            authorization_endpoint=f"{ISSUER}/oauth2/authorize",
            token_endpoint=f"{ISSUER}/oauth2/token",
            userinfo_endpoint=f"{ISSUER}/oauth2/userinfo",
            revocation_endpoint=f"{ISSUER}/oauth2/revoke",
            jwks_uri=f"{ISSUER}/oauth2/jwks",
            scopes_supported=SCOPES,
            response_types_supported=["code"],
            response_modes_supported=["query"],
            grant_types_supported=["authorization_code", "refresh_token"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=list(ID_TOKEN_ALGS),
            token_endpoint_auth_methods_supported=list(AUTH_METHODS),
            revocation_endpoint_auth_methods_supported=list(AUTH_METHODS),
            code_challenge_methods_supported=["S256", "plain"],
            claims_supported=list(user_claims("x")) + ["iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash"],
            authorization_response_iss_parameter_supported=True,
            # Non-standard, for tests:
            oauth1_request_token_endpoint=f"{ISSUER}/oauth1/request_token",
            oauth1_authorize_endpoint=f"{ISSUER}/oauth1/authorize",
            oauth1_access_token_endpoint=f"{ISSUER}/oauth1/access_token",
        )

    @app.after_request
    def log_request(resp):
        log.info("%s %s -> %s", request.method, request.full_path.rstrip("?"), resp.status_code)
        return resp

    return app


def main() -> None:
    global KEYS, ISSUER

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            self.print_usage(sys.stderr)
            die(message)

    ap = Parser(description="Authlib-based OAuth 1.0a + OAuth 2.0/OIDC provider for ferroauth interop tests")
    ap.add_argument("--clients", required=True, help="JSON file: array of client objects (see module doc)")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    ap.add_argument("--access-token-ttl", type=int, default=3600, help="OAuth 2 access token lifetime, seconds")
    ap.add_argument("--approval-page", action="store_true",
                    help="OAuth 1.0a authorization asks for a click on an HTML page instead of approving at once")
    args = ap.parse_args()
    if not 0 <= args.port <= 65535:
        die(f"--port out of range: {args.port}")
    if args.access_token_ttl < 1:
        die("--access-token-ttl must be >= 1")

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="[authlib] %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # we log requests ourselves

    try:
        with open(args.clients, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as err:
        die(f"cannot read clients file {args.clients}: {err}")
    if not isinstance(raw, list):
        die(f"clients file {args.clients} must hold a JSON array")
    for i, entry in enumerate(raw):
        client = Client(entry, i)
        if client.client_id in CLIENTS:
            die(f"clients file entry {i}: duplicate client_id {client.client_id!r}")
        CLIENTS[client.client_id] = client

    KEYS = SigningKeys()
    app = create_app(args.access_token_ttl, args.approval_page)
    try:
        server = make_server("127.0.0.1", args.port, app, threaded=True)
    except OSError as err:
        die(f"cannot listen on 127.0.0.1:{args.port}: {err}")
    ISSUER = f"http://127.0.0.1:{server.server_port}"

    def stop(signum, _frame):
        log.info("signal %s: shutting down", signal.Signals(signum).name)
        # shutdown() blocks until serve_forever returns: run it off the main thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    log.info("issuer %s, %d client(s), kids %s %s", ISSUER, len(CLIENTS), KEYS.rsa.kid, KEYS.ec.kid)
    print(f"READY {ISSUER}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
