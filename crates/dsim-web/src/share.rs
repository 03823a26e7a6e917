//! "Copy link" and "copy embed code". When the clipboard refuses (an insecure page, a browser
//! without permission), the text is shown in a field to copy by hand.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::store::use_store;

/// The iframe and the few lines that let it size itself from the height it posts.
pub fn embed_code(url: &str) -> String {
    let src = url.replace('&', "&amp;").replace('"', "&quot;");
    format!(
        "<iframe data-dsim-embed src=\"{src}\" title=\"Delivery semantics playground\" \
         style=\"width:100%;height:640px;border:0\" loading=\"lazy\"></iframe>\n\
         <script>addEventListener(\"message\",e=>{{const d=e.data;if(!d||d.type!==\"dsim-height\"||!Number.isFinite(d.height))return;\
         for(const f of document.querySelectorAll(\"iframe[data-dsim-embed]\"))if(f.contentWindow===e.source)f.style.height=Math.min(4000,Math.max(200,d.height))+\"px\"}})</script>"
    )
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
    }
}
