//! The TypeScript declarations of the `<delivery-playground>` element
//! (`web/delivery-playground.d.ts`, shipped beside the element's module in `dist/`), written
//! from the same tables the element reads: every scenario setting (`dsim_core::knobs`), with
//! its choices where it has them, `preset`, `script`, and the element's own `view` and
//! `height`. A test holds the file to this text (`DSIM_BLESS=1` rewrites it).

use dsim_core::element::{HEIGHT_PX, THEMES, View};
use dsim_core::knobs::{Kind, PRESET_KEY, knobs};
use dsim_core::presets::presets;
use dsim_core::script::SCRIPT_KEY;

/// The declarations' text.
pub fn typescript() -> String {
    let mut out = String::from(
        "// The <delivery-playground> element: its attributes and its class.\n\
         // Generated from the playground's settings (crates/dsim-web/src/model/element_types.rs);\n\
         // do not edit by hand.\n\n\
         /** Every attribute is a string, as in HTML; numbers are written as the URL writes them. */\n\
         export interface DeliveryPlaygroundAttributes {\n",
    );
    let quoted = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    for knob in knobs() {
        let unit = if knob.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", knob.unit)
        };
        let kind = match knob.kind {
            Kind::Choice(names) => quoted(names),
            _ => "string".to_string(),
        };
        out.push_str(&format!(
            "  /** {}{unit}: {} */\n  \"{}\"?: {kind};\n",
            knob.label, knob.help, knob.key
        ));
    }
    let preset_names: Vec<&str> = presets().iter().map(|p| p.key).collect();
    out.push_str(&format!(
        "  /** Start from a named preset; the other attributes change it. */\n  \"{PRESET_KEY}\"?: {};\n",
        quoted(&preset_names)
    ));
    out.push_str(&format!(
        "  /** A fault timeline, as the playground's URL writes it. */\n  \"{SCRIPT_KEY}\"?: string;\n"
    ));
    out.push_str(&format!(
        "  /** What the element shows; counters when absent. */\n  view?: {};\n",
        quoted(&View::ALL.map(View::key))
    ));
    out.push_str(&format!(
        "  /** Its height in CSS pixels, {} to {}; the content's own when absent. */\n  height?: string;\n",
        HEIGHT_PX.start(),
        HEIGHT_PX.end()
    ));
    out.push_str(&format!(
        "  /** Its colours; the reader's system decides when absent or auto. Changing it re-runs nothing. */\n  theme?: {};\n}}\n\n",
        quoted(THEMES)
    ));
    out.push_str(
        "export declare class DeliveryPlayground extends HTMLElement {}\n\n\
         declare global {\n  interface HTMLElementTagNameMap {\n    \"delivery-playground\": DeliveryPlayground;\n  }\n}\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_shipped_declarations_are_the_generated_ones() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/delivery-playground.d.ts");
        let text = super::typescript();
        if std::env::var_os("DSIM_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shipped == text,
            "web/delivery-playground.d.ts is stale: rerun with DSIM_BLESS=1"
        );
    }

    #[test]
    fn every_setting_and_the_elements_own_attributes_are_declared() {
        let text = super::typescript();
        for knob in dsim_core::knobs() {
            assert!(
                text.contains(&format!("\"{}\"?:", knob.key)),
                "{}",
                knob.key
            );
        }
        assert!(text.contains(
            "view?: \"counters\" | \"dashboard\" | \"compare\" | \"timeline\" | \"matrix\";"
        ));
        assert!(
            text.contains("\"broker\"?: \"kafka\" | \"rabbitmq\" | \"sqs\" | \"sqs-fifo\";"),
            "{text}"
        );
        assert!(text.contains("\"preset\"?: \"consumer-crash-after-processing\" | "));
    }
}
