//! The little HTML ferroauth writes itself (the form_post re-post page, the routes' default
//! error page), shared by every web integration.

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A plain page for a failed login step: the error code (`#error-code`), the HTTP status,
/// the description (`#error-description`) and a way back to `/`.
pub fn error_page(status: u16, code: &str, description: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Login failed</title></head>\
         <body><h1>Login failed</h1><p><code id=\"error-code\">{}</code> (HTTP {status})</p>\
         <p id=\"error-description\">{}</p><p><a href=\"/\">Back to the home page</a></p></body></html>",
        escape(code),
        escape(description)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let page = error_page(400, "state_unknown", "<script>alert(1)</script>");
        assert!(page.contains("<code id=\"error-code\">state_unknown</code> (HTTP 400)"));
        assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"));
    }
}
