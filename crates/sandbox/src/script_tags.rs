//! Which installed scripts a storefront page carries and their tags (scripts.v3.yml): the
//! enabled scripts of the page's channel whose `visibility` covers the page (`storefront`: every
//! page but checkout and order confirmation; `order_confirmation`; `all_pages`), in creation
//! order, split by `location` into the `<head>` and the end of `<body>`. A `src` script becomes
//! a `script` tag with its `load_method` and `integrity_hashes`; a `script_tag` script's HTML
//! goes in as it is, as BigCommerce adds it. Pure rendering over `StoreState`.

use std::fmt::Write as _;

use crate::data::{Script, ScriptBody, StoreState};
use crate::html::escape;

/// The kinds of storefront page, as script visibility tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageKind {
    /// Any page but checkout and order confirmation.
    Storefront,
    /// The page a shopper sees once an order is placed.
    OrderConfirmation,
}

impl PageKind {
    fn shows(self, visibility: &str) -> bool {
        match self {
            PageKind::Storefront => matches!(visibility, "storefront" | "all_pages"),
            PageKind::OrderConfirmation => {
                matches!(visibility, "order_confirmation" | "all_pages")
            }
        }
    }
}

/// The tags of a page's scripts: what goes before `</head>` and what before `</body>`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PageScripts {
    pub head: String,
    pub footer: String,
}

/// The scripts a `kind` page of `channel_id` carries.
pub(crate) fn page_scripts(state: &StoreState, channel_id: u64, kind: PageKind) -> PageScripts {
    let mut scripts = PageScripts::default();
    for script in state
        .scripts
        .iter()
        .filter(|script| script.enabled && script.channel_id == channel_id)
        .filter(|script| kind.shows(script.visibility))
    {
        let slot = if script.location == "head" {
            &mut scripts.head
        } else {
            &mut scripts.footer
        };
        let _ = writeln!(slot, "{}", tag(script));
    }
    scripts
}

fn tag(script: &Script) -> String {
    match &script.body {
        ScriptBody::Html(html) => html.clone(),
        ScriptBody::Src(src) => {
            let mut tag = format!("<script src=\"{}\"", escape(src));
            if matches!(script.load_method, "async" | "defer") {
                let _ = write!(tag, " {}", script.load_method);
            }
            if !script.integrity_hashes.is_empty() {
                let _ = write!(
                    tag,
                    " integrity=\"{}\" crossorigin=\"anonymous\"",
                    escape(&script.integrity_hashes.join(" "))
                );
            }
            tag.push_str("></script>");
            tag
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::data::{HEADLESS_CHANNEL_ID, STOREFRONT_CHANNEL_ID};
    use crate::seed::{SeedSpec, build};

    fn script(
        name: &str,
        body: ScriptBody,
        location: &'static str,
        visibility: &'static str,
    ) -> Script {
        Script {
            uuid: Uuid::new_v4(),
            name: name.to_owned(),
            description: String::new(),
            body,
            auto_uninstall: false,
            load_method: "default",
            location,
            visibility,
            api_client_id: Arc::from("client"),
            consent_category: "essential",
            enabled: true,
            channel_id: STOREFRONT_CHANNEL_ID,
            integrity_hashes: Vec::new(),
            date_created: datetime!(2026-01-01 00:00:00 UTC),
            date_modified: datetime!(2026-01-01 00:00:00 UTC),
        }
    }

    #[test]
    fn a_page_carries_the_enabled_scripts_of_its_channel_that_cover_it() {
        let mut state = build(&SeedSpec::default(), "client");
        let src = |url: &str| ScriptBody::Src(url.to_owned());
        let mut deferred = script(
            "deferred",
            src("https://a.example/d.js"),
            "head",
            "storefront",
        );
        deferred.load_method = "defer";
        deferred.integrity_hashes = vec!["sha384-a".to_owned(), "sha384-b".to_owned()];
        let mut disabled = script("off", src("https://a.example/off.js"), "head", "all_pages");
        disabled.enabled = false;
        let mut elsewhere = script("other", src("https://a.example/o.js"), "head", "all_pages");
        elsewhere.channel_id = HEADLESS_CHANNEL_ID;
        state.scripts = vec![
            deferred,
            script(
                "module",
                ScriptBody::Html("<script type=\"module\">go()</script>".to_owned()),
                "footer",
                "all_pages",
            ),
            script(
                "thanks",
                src("https://a.example/t.js"),
                "footer",
                "order_confirmation",
            ),
            script("pay", src("https://a.example/p.js"), "footer", "checkout"),
            disabled,
            elsewhere,
        ];

        let storefront = page_scripts(&state, STOREFRONT_CHANNEL_ID, PageKind::Storefront);
        let confirmation = page_scripts(&state, STOREFRONT_CHANNEL_ID, PageKind::OrderConfirmation);

        assert_eq!(
            storefront,
            PageScripts {
                head: "<script src=\"https://a.example/d.js\" defer integrity=\"sha384-a sha384-b\" crossorigin=\"anonymous\"></script>\n".to_owned(),
                footer: "<script type=\"module\">go()</script>\n".to_owned(),
            }
        );
        assert_eq!(
            confirmation,
            PageScripts {
                head: String::new(),
                footer: "<script type=\"module\">go()</script>\n<script src=\"https://a.example/t.js\"></script>\n".to_owned(),
            }
        );
    }

    #[test]
    fn a_src_is_escaped_into_its_attribute() {
        let script = script(
            "quoted",
            ScriptBody::Src("https://a.example/x.js?a=1&b=\"2\"".to_owned()),
            "head",
            "storefront",
        );

        assert_eq!(
            tag(&script),
            "<script src=\"https://a.example/x.js?a=1&amp;b=&quot;2&quot;\"></script>"
        );
    }
}
