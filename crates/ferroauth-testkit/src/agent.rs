//! A scripted browser for an app's own tests: it follows redirects, keeps cookies per
//! site, posts `response_mode=form_post` answers as a browser's script would, and picks a
//! user on this provider's sign-in and device pages — so a test logs in through the app's
//! real routes in one call.
//!
//! ```no_run
//! use ferroauth_testkit::agent::Agent;
//!
//! # async fn run() -> Result<(), ferroauth_testkit::agent::AgentError> {
//! let agent = Agent::new();
//! // The app's login route → the provider → alice chosen → the app's callback → its page.
//! let page = agent.login("http://127.0.0.1:8000/login/dev", "alice").await?;
//! assert!(page.body.contains("alice"));
//! // Later requests carry the app's session cookie.
//! let me = agent.get("http://127.0.0.1:8000/").await?;
//! # let _ = me;
//! # Ok(())
//! # }
//! ```
//!
//! It is not a browser: it runs no script but the form_post one, and it sends cookies by
//! host and path only (no `SameSite`). Tests of cross-site cookie rules need a real
//! browser; this agent is for the app's own logic after the login.
//!
//! The pages it reads are this crate's own, so a few string searches find their forms;
//! an HTML parser would be a dependency for three known shapes.

use std::sync::Arc;

use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use url::Url;

/// How many redirects and automatic form posts one navigation may take.
const MAX_HOPS: usize = 20;

/// A failed navigation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The request failed (connection refused, timeout, unreadable body).
    #[error("request to {url} failed: {source}")]
    Http {
        /// The URL requested.
        url: String,
        /// What reqwest reported.
        source: reqwest::Error,
    },
    /// A URL or a redirect's `Location` could not be read.
    #[error("not a URL: {0}")]
    BadUrl(String),
    /// More than 20 redirects and form posts in one navigation.
    #[error("more than {MAX_HOPS} redirects from {0}")]
    TooManyRedirects(String),
    /// [`Agent::login`] or [`Agent::approve_device`] ended on a page that is not this
    /// provider's sign-in or device page.
    #[error("expected the provider's {expected} page, got {status} at {url}: {excerpt}")]
    UnexpectedPage {
        /// `sign-in` or `device`.
        expected: &'static str,
        /// Where the agent stood.
        url: String,
        /// That page's status.
        status: u16,
        /// The start of its body.
        excerpt: String,
    },
}

/// Where a navigation ended.
#[derive(Debug, Clone)]
pub struct Page {
    /// The final URL, after redirects.
    pub url: String,
    /// Its status code.
    pub status: u16,
    /// Its body, as text.
    pub body: String,
}

impl Page {
    /// The page's body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    fn is_sign_in(&self) -> bool {
        self.body.contains("name=\"request\"") && self.body.contains("name=\"user\"")
    }

    fn is_device(&self) -> bool {
        self.body.contains("name=\"user_code\"") && self.body.contains("name=\"user\"")
    }

    fn is_form_post(&self) -> bool {
        self.body.contains("<title>Submit this form</title>")
    }

    fn unexpected(&self, expected: &'static str) -> AgentError {
        AgentError::UnexpectedPage {
            expected,
            url: self.url.clone(),
            status: self.status,
            excerpt: self.body.chars().take(300).collect(),
        }
    }
}

/// A scripted browser with its own cookie jar. Clones share the jar.
#[derive(Debug, Clone)]
pub struct Agent {
    http: reqwest::Client,
}

impl Default for Agent {
    fn default() -> Self {
        Self::new()
    }
}

impl Agent {
    /// A fresh browser: no cookies.
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .cookie_provider(Arc::new(Jar::default()))
            .redirect(Policy::none())
            .build()
            .expect("a reqwest client with default TLS settings builds");
        Self { http }
    }

    /// `GET url`, following redirects and form_post pages to the end.
    pub async fn get(&self, url: &str) -> Result<Page, AgentError> {
        self.navigate(
            Url::parse(url).map_err(|_| AgentError::BadUrl(url.into()))?,
            None,
        )
        .await
    }

    /// A form POST to `url` (as a page's form would send it), followed to the end.
    pub async fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Result<Page, AgentError> {
        let url = Url::parse(url).map_err(|_| AgentError::BadUrl(url.into()))?;
        let fields = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.navigate(url, Some(fields)).await
    }

    /// Opens `url` (an app's login route), signs in as `user` (a subject or username) on
    /// the provider's page and follows the answer back through the app's callback.
    /// Returns the page the app ends on. With an auto-approving provider there is no
    /// sign-in page and the login simply completes.
    pub async fn login(&self, url: &str, user: &str) -> Result<Page, AgentError> {
        let page = self.get(url).await?;
        if !page.is_sign_in() {
            return Ok(page);
        }
        self.submit(&page, &[("user", user)]).await
    }

    /// Opens a device verification URL (`verification_uri_complete`, or
    /// `verification_uri` with `user_code`) and approves the device as `user`.
    pub async fn approve_device(
        &self,
        verification_uri: &str,
        user_code: Option<&str>,
        user: &str,
    ) -> Result<Page, AgentError> {
        let page = self.get(verification_uri).await?;
        if !page.is_device() {
            return Err(page.unexpected("device"));
        }
        let typed = input_value(&page.body, "user_code");
        let code = user_code.or(typed.as_deref()).unwrap_or_default();
        self.submit(&page, &[("user_code", code), ("user", user)])
            .await
    }

    /// Posts the page's first form: its hidden fields, then `fields`.
    pub async fn submit(&self, page: &Page, fields: &[(&str, &str)]) -> Result<Page, AgentError> {
        let (action, mut form) =
            first_form(&page.body).ok_or_else(|| page.unexpected("sign-in"))?;
        let base = Url::parse(&page.url).map_err(|_| AgentError::BadUrl(page.url.clone()))?;
        let action = base
            .join(&action)
            .map_err(|_| AgentError::BadUrl(action.clone()))?;
        form.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.navigate(action, Some(form)).await
    }

    async fn navigate(
        &self,
        mut url: Url,
        mut form: Option<Vec<(String, String)>>,
    ) -> Result<Page, AgentError> {
        for _ in 0..MAX_HOPS {
            let request = match form.take() {
                Some(fields) => self.http.post(url.clone()).form(&fields),
                None => self.http.get(url.clone()),
            };
            let http = |source| AgentError::Http {
                url: url.to_string(),
                source,
            };
            let response = request.send().await.map_err(http)?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        AgentError::BadUrl(format!("a redirect from {url} without Location"))
                    })?;
                url = url
                    .join(location)
                    .map_err(|_| AgentError::BadUrl(location.to_owned()))?;
                continue;
            }
            let page = Page {
                url: url.to_string(),
                status: status.as_u16(),
                body: response.text().await.map_err(http)?,
            };
            if !page.is_form_post() {
                return Ok(page);
            }
            let (action, fields) =
                first_form(&page.body).ok_or_else(|| page.unexpected("form_post"))?;
            url = url
                .join(&action)
                .map_err(|_| AgentError::BadUrl(action.clone()))?;
            form = Some(fields);
        }
        Err(AgentError::TooManyRedirects(url.to_string()))
    }
}

/// The first form's `action` and its hidden fields.
fn first_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form ")?;
    let form = &html[start
        ..html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e)];
    let action = attribute(&form[..form.find('>')?], "action")?;
    let hidden = form
        .split("<input ")
        .skip(1)
        .filter_map(|input| input.split('>').next())
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect();
    Some((action, hidden))
}

/// The `value` of the input named `name`.
fn input_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    html.split("<input ")
        .skip(1)
        .filter_map(|input| input.split('>').next())
        .find(|tag| tag.contains(&needle))
        .and_then(|tag| attribute(tag, "value"))
        .filter(|v| !v.is_empty())
}

/// An attribute of a tag (double-quoted, as this crate writes them), unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// Reverses `util::html_escape`.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_forms_action_and_hidden_fields_are_read_unescaped() {
        let html = "<p>x</p><form method=\"post\" action=\"https://app.test/cb?a=1&amp;b=2\">\
<input type=\"hidden\" name=\"state\" value=\"s&quot;1\"><input type=\"text\" name=\"username\">\
<input type=\"hidden\" name=\"code\" value=\"c\"></form><form action=\"/other\"></form>";
        let (action, fields) = first_form(html).unwrap();
        assert_eq!(action, "https://app.test/cb?a=1&b=2");
        assert_eq!(
            fields,
            vec![
                ("state".to_owned(), "s\"1".to_owned()),
                ("code".to_owned(), "c".to_owned())
            ]
        );
    }

    #[test]
    fn a_page_without_a_form_has_none() {
        assert!(first_form("<p>no form</p>").is_none());
    }
}
