//! The app's settings laid over a preset's: every key given explicitly wins, and maps
//! merge key by key.
//!
//! Both merges destructure every field, so that a new setting cannot be forgotten here:
//! the compiler refuses the merge until it says how the new field combines.

use crate::settings::{ClientKwargs, ClientSettings};
use std::collections::BTreeMap;

/// `explicit` over `preset`.
pub(crate) fn settings(explicit: ClientSettings, preset: ClientSettings) -> ClientSettings {
    let ClientSettings {
        preset: name,
        preset_options,
        client_id,
        client_secret,
        authorize_url,
        authorize_params,
        access_token_url,
        access_token_params,
        request_token_url,
        request_token_params,
        api_base_url,
        client_kwargs,
        server_metadata_url,
        issuer,
        userinfo_endpoint,
        jwks_uri,
        revocation_endpoint,
        introspection_endpoint,
        end_session_endpoint,
        device_authorization_endpoint,
    } = explicit;
    ClientSettings {
        preset: name,
        preset_options,
        client_id: client_id.or(preset.client_id),
        client_secret: client_secret.or(preset.client_secret),
        authorize_url: authorize_url.or(preset.authorize_url),
        authorize_params: map(authorize_params, preset.authorize_params),
        access_token_url: access_token_url.or(preset.access_token_url),
        access_token_params: map(access_token_params, preset.access_token_params),
        request_token_url: request_token_url.or(preset.request_token_url),
        request_token_params: map(request_token_params, preset.request_token_params),
        api_base_url: api_base_url.or(preset.api_base_url),
        client_kwargs: kwargs(client_kwargs, preset.client_kwargs),
        server_metadata_url: server_metadata_url.or(preset.server_metadata_url),
        issuer: issuer.or(preset.issuer),
        userinfo_endpoint: userinfo_endpoint.or(preset.userinfo_endpoint),
        jwks_uri: jwks_uri.or(preset.jwks_uri),
        revocation_endpoint: revocation_endpoint.or(preset.revocation_endpoint),
        introspection_endpoint: introspection_endpoint.or(preset.introspection_endpoint),
        end_session_endpoint: end_session_endpoint.or(preset.end_session_endpoint),
        device_authorization_endpoint: device_authorization_endpoint
            .or(preset.device_authorization_endpoint),
    }
}

fn kwargs(explicit: ClientKwargs, preset: ClientKwargs) -> ClientKwargs {
    let ClientKwargs {
        scope,
        token_endpoint_auth_method,
        code_challenge_method,
        timeout,
        connect_timeout,
        max_response_bytes,
        allow_insecure_http,
        revoke_tokens_on_logout,
        backchannel_logout,
        id_token_signing_algs,
        issuer_aliases,
        leeway,
        fetch_userinfo,
        check_nonce,
        require_auth_time,
        api_headers,
        signature_method,
        signature_type,
        realm,
        rsa_private_key,
        client_assertion_key,
        client_assertion_kid,
        client_assertion_alg,
        token_refresh_leeway,
        pushed_authorization_requests,
        resource,
        request_object,
        dpop,
        dpop_alg,
        dpop_key,
    } = explicit;
    ClientKwargs {
        scope: scope.or(preset.scope),
        token_endpoint_auth_method: token_endpoint_auth_method
            .or(preset.token_endpoint_auth_method),
        code_challenge_method: code_challenge_method.or(preset.code_challenge_method),
        timeout: timeout.or(preset.timeout),
        connect_timeout: connect_timeout.or(preset.connect_timeout),
        max_response_bytes: max_response_bytes.or(preset.max_response_bytes),
        // A preset never turns a safety check off on its own: insecure http stays the
        // app's explicit choice.
        allow_insecure_http,
        revoke_tokens_on_logout: revoke_tokens_on_logout.or(preset.revoke_tokens_on_logout),
        backchannel_logout: backchannel_logout.or(preset.backchannel_logout),
        id_token_signing_algs: id_token_signing_algs.or(preset.id_token_signing_algs),
        issuer_aliases: issuer_aliases.or(preset.issuer_aliases),
        leeway: leeway.or(preset.leeway),
        fetch_userinfo: fetch_userinfo.or(preset.fetch_userinfo),
        check_nonce: check_nonce.or(preset.check_nonce),
        require_auth_time: require_auth_time.or(preset.require_auth_time),
        api_headers: map(api_headers, preset.api_headers),
        signature_method: signature_method.or(preset.signature_method),
        signature_type: signature_type.or(preset.signature_type),
        realm: realm.or(preset.realm),
        rsa_private_key: rsa_private_key.or(preset.rsa_private_key),
        client_assertion_key: client_assertion_key.or(preset.client_assertion_key),
        client_assertion_kid: client_assertion_kid.or(preset.client_assertion_kid),
        client_assertion_alg: client_assertion_alg.or(preset.client_assertion_alg),
        token_refresh_leeway: token_refresh_leeway.or(preset.token_refresh_leeway),
        pushed_authorization_requests: pushed_authorization_requests
            .or(preset.pushed_authorization_requests),
        resource: resource.or(preset.resource),
        request_object: request_object.or(preset.request_object),
        dpop: dpop || preset.dpop,
        dpop_alg: dpop_alg.or(preset.dpop_alg),
        dpop_key: dpop_key.or(preset.dpop_key),
    }
}

fn map(
    explicit: BTreeMap<String, String>,
    mut preset: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    preset.extend(explicit);
    preset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_keys_win_and_maps_merge() {
        let preset = ClientSettings {
            authorize_url: Some("https://preset.example/auth".into()),
            access_token_url: Some("https://preset.example/token".into()),
            authorize_params: [("a", "1"), ("b", "2")]
                .map(|(k, v)| (k.into(), v.into()))
                .into(),
            client_kwargs: ClientKwargs {
                scope: Some("read".into()),
                check_nonce: Some(false),
                ..ClientKwargs::default()
            },
            ..ClientSettings::default()
        };
        let explicit = ClientSettings {
            authorize_url: Some("https://mine.example/auth".into()),
            authorize_params: [("b", "mine")].map(|(k, v)| (k.into(), v.into())).into(),
            client_kwargs: ClientKwargs {
                check_nonce: Some(true),
                ..ClientKwargs::default()
            },
            ..ClientSettings::default()
        };
        let merged = settings(explicit, preset);
        assert_eq!(
            merged.authorize_url.as_deref(),
            Some("https://mine.example/auth")
        );
        assert_eq!(
            merged.access_token_url.as_deref(),
            Some("https://preset.example/token")
        );
        assert_eq!(merged.authorize_params["a"], "1");
        assert_eq!(merged.authorize_params["b"], "mine");
        assert_eq!(merged.client_kwargs.scope.as_deref(), Some("read"));
        assert_eq!(merged.client_kwargs.check_nonce, Some(true));
    }
}
