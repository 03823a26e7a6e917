//! "Copy link" and "copy embed code". When the clipboard refuses (an insecure page, a browser
//! without permission), the text is shown in a field to copy by hand.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::store::use_store;

/// The iframe and the few lines that let it size itself from the height it posts. The
/// listener believes only messages from the playground's origin and from one of the page's own
/// playground frames, and only a finite height, clamped: the embedding page gets the same care
/// the playground takes (it sends its height and nothing else, and listens to nothing).
pub fn embed_code(url: &str) -> String {
    let src = url.replace('&', "&amp;").replace('"', "&quot;");
    let origin_check = origin_of(url)
        .map(|o| format!("if(e.origin!==\"{o}\")return;"))
        .unwrap_or_default();
    format!(
        "<iframe data-dsim-embed src=\"{src}\" title=\"Delivery semantics playground\" \
         style=\"width:100%;height:640px;border:0\" loading=\"lazy\"></iframe>\n\
         <script>addEventListener(\"message\",e=>{{{origin_check}const d=e.data;if(!d||d.type!==\"dsim-height\"||!Number.isFinite(d.height))return;\
         for(const f of document.querySelectorAll(\"iframe[data-dsim-embed]\"))if(f.contentWindow===e.source)f.style.height=Math.min(4000,Math.max(200,d.height))+\"px\"}})</script>"
    )
}

/// `scheme://host[:port]` of an absolute http(s) URL, if it has only the characters an origin
/// can have (so it is safe inside the snippet's script as a string).
fn origin_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = &url[..url.len() - rest.len() + host_len];
    let safe = host_len > 0
        && rest[..host_len]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    safe.then_some(origin)
}

#[component]
pub fn ShareButtons() -> impl IntoView {
    let store = use_store();
    // (what was copied, the text itself when it has to be copied by hand)
    let feedback = RwSignal::new(None::<(String, Option<String>)>);
    let copy = move |what: &'static str, text: String| {
        spawn_local(async move {
            match browser::copy_text(&text).await {
                Ok(()) => feedback.set(Some((format!("{what} copied"), None))),
                Err(why) => feedback.set(Some((
                    format!("Could not copy ({why}); copy it from here:"),
                    Some(text),
                ))),
            }
        });
    };
    let link = move || {
        let mut state = store.page_state();
        state.embed = false;
        browser::page_url(&state.to_query())
    };
    let embed = move || {
        let mut state = store.page_state();
        state.embed = true;
        state.compare = false;
        embed_code(&browser::page_url(&state.to_query()))
    };
    view! {
        <div class="share">
            <button type="button" data-testid="copy-link" on:click=move |_| copy("Link", link())>
                "Copy link"
            </button>
            <button type="button" data-testid="copy-embed" on:click=move |_| copy("Embed code", embed())>
                "Copy embed code"
            </button>
            {move || {
                feedback.get().map(|(message, text)| {
                    view! {
                        <p class="share-feedback" role="status" data-testid="share-feedback">
                            {message}
                            {text.map(|t| view! { <textarea readonly rows="3" data-testid="share-text">{t}</textarea> })}
                        </p>
                    }
                })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_code_escapes_the_url_and_only_reads_heights() {
        let code = embed_code("http://127.0.0.1:8080/?mode=outbox&embed=1");
        assert!(code.contains("src=\"http://127.0.0.1:8080/?mode=outbox&amp;embed=1\""));
        assert!(code.contains("dsim-height"));
        assert!(code.contains(r#"if(e.origin!=="http://127.0.0.1:8080")return;"#));
    }

    #[test]
    fn only_a_plain_origin_goes_into_the_snippet_script() {
        assert_eq!(
            origin_of("https://example.org/play/?a=1"),
            Some("https://example.org")
        );
        assert_eq!(origin_of("http://[::1]:8080?x"), Some("http://[::1]:8080"));
        assert_eq!(origin_of("?mode=outbox"), None);
        assert_eq!(origin_of("file:///tmp/index.html"), None);
        assert_eq!(origin_of("http://evil\"</script>/"), None);
        assert!(!embed_code("?mode=outbox").contains("e.origin"));
    }
}
