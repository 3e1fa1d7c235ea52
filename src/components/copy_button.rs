use leptos::prelude::*;

/// Copies `value` to the clipboard and says "Copied!" for two seconds.
#[component]
pub fn CopyButton(value: String, #[prop(into)] label: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let aria = format!("Copy {label}");
    let on_click = move |_| {
        copy_to_clipboard(&value);
        copied.set(true);
        set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
    };
    view! {
        <button type="button" class="btn btn-small btn-secondary" on:click=on_click aria-label=aria>
            {move || if copied.get() { "Copied!" } else { "Copy" }}
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn copy_to_clipboard(value: &str) {
    use wasm_bindgen::JsCast;
    let window = leptos::prelude::window();
    let navigator = window.navigator();
    let has_clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into())
        .map(|c| !c.is_undefined())
        .unwrap_or(false);
    if has_clipboard {
        let _ = navigator.clipboard().write_text(value);
        return;
    }
    // Older browsers and plain-http origins: select a hidden textarea and copy.
    let Some(document) = window.document() else {
        return;
    };
    let Ok(area) = document.create_element("textarea") else {
        return;
    };
    let Ok(area) = area.dyn_into::<web_sys::HtmlTextAreaElement>() else {
        return;
    };
    area.set_value(value);
    let _ = area.set_attribute("style", "position:fixed;left:-1000px;top:0");
    if let Some(body) = document.body() {
        let _ = body.append_child(&area);
        area.select();
        if let Ok(html) = document.clone().dyn_into::<web_sys::HtmlDocument>() {
            let _ = html.exec_command("copy");
        }
        let _ = body.remove_child(&area);
    }
}

#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(_value: &str) {}
