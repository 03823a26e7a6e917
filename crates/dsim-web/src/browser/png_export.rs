//! A chart as a PNG: the standalone SVG file `chart_export` writes, drawn by the browser onto
//! a canvas and encoded there. The SVG is loaded as an image from a `blob:` URL (which is why
//! the page's Content-Security-Policy allows `img-src blob:`); nothing leaves the page.
//!
//! An SVG loaded as an image is a document of its own: the `<style>` inside the file colours
//! it, the page's stylesheet and policy do not reach it, and it can load nothing further.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, CanvasRenderingContext2d, HtmlCanvasElement, HtmlImageElement, Url,
};

/// Pixels per SVG unit: twice the chart's size, so the picture stays sharp on a slide or a
/// high-density screen.
pub const PNG_SCALE: f64 = 2.0;

fn js_error(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "the browser refused".into())
}

/// A blob of `mime` holding `text`.
pub fn text_blob(text: &str, mime: &str) -> Result<Blob, String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_str_sequence_and_options(&parts, &options).map_err(js_error)
}

/// Draws an SVG document onto a canvas at `scale` and encodes it as PNG.
pub async fn svg_to_png(svg: &str, scale: f64) -> Result<Blob, String> {
    let url =
        Url::create_object_url_with_blob(&text_blob(svg, "image/svg+xml")?).map_err(js_error)?;
    let drawn = draw(&url, scale).await;
    // The image is decoded and drawn (or failed); its URL is no longer needed either way.
    let _ = Url::revoke_object_url(&url);
    let canvas = drawn?;
    let blob = JsFuture::from(js_sys::Promise::new(&mut |resolve, reject| {
        if let Err(e) = canvas.to_blob_with_type(&resolve, "image/png") {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    }))
    .await
    .map_err(js_error)?;
    // `toBlob` hands back null when the canvas cannot be encoded (too large, say).
    blob.dyn_into::<Blob>()
        .map_err(|_| "the browser could not encode the chart as PNG".to_string())
}

async fn draw(url: &str, scale: f64) -> Result<HtmlCanvasElement, String> {
    let image = HtmlImageElement::new().map_err(js_error)?;
    image.set_src(url);
    JsFuture::from(image.decode()).await.map_err(js_error)?;
    let (width, height) = (image.natural_width(), image.natural_height());
    if width == 0 || height == 0 {
        return Err("the chart has no size".into());
    }
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let canvas: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "no canvas")?;
    let (w, h) = (f64::from(width) * scale, f64::from(height) * scale);
    canvas.set_width(w.round() as u32);
    canvas.set_height(h.round() as u32);
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(js_error)?
        .ok_or("no 2d context")?
        .dyn_into()
        .map_err(|_| "no 2d context")?;
    context
        .draw_image_with_html_image_element_and_dw_and_dh(&image, 0.0, 0.0, w, h)
        .map_err(js_error)?;
    Ok(canvas)
}

/// The bytes of a blob.
pub async fn blob_bytes(blob: &Blob) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(js_error)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Renders the SVG as PNG and offers it as a download; the PNG's size in bytes.
pub async fn download_png(file_name: &str, svg: &str) -> Result<u32, String> {
    let png = svg_to_png(svg, PNG_SCALE).await?;
    crate::browser::download_blob(file_name, &png);
    Ok(png.size() as u32)
}
