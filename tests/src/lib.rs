//! Renders the public surface of a generated module as compact text for snapshots: one line per
//! operation (method, path, operation id, parameters, body and response types), and per type
//! its fields and their types.
#![forbid(unsafe_code)]

use quote::ToTokens;
use std::fmt::Write as _;

/// The surface of one generated module's source.
pub fn surface(source: &str) -> Result<String, syn::Error> {
    let file = syn::parse_file(source)?;
    let mut ops = Vec::new();
    let mut types = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Impl(imp)
                if imp.trait_.is_none() && tidy(&imp.self_ty.to_token_stream().to_string()) == "Client" =>
            {
                for it in &imp.items {
                    if let syn::ImplItem::Fn(f) = it {
                        if f.sig.asyncness.is_some() {
                            ops.push(operation(f));
                        }
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "types" => {
                if let Some((_, items)) = &m.content {
                    let redacted = redacted_fields(items);
                    for it in items {
                        if let Some(t) = type_surface(it, &redacted) {
                            types.push(t);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    ops.sort();
    types.sort();
    let mut out = String::new();
    writeln!(out, "# {} operations", ops.len()).unwrap();
    for op in &ops {
        writeln!(out, "{op}").unwrap();
    }
    writeln!(out, "\n# {} types", types.len()).unwrap();
    for t in &types {
        out.push_str(t);
    }
    Ok(out)
}

/// Number of operations in a rendered surface.
pub fn operation_count(surface: &str) -> usize {
    surface
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with('#'))
        .count()
}

fn tidy(tokens: &str) -> String {
    let s: String = tokens.split_whitespace().collect::<Vec<_>>().join(" ");
    let s = s.replace("& 'a ", "&").replace("<'a>", "");
    let s = s
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<");
    let s = s
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& '", "&'")
        .replace("' a ", "'a ")
        .replace("& ", "&");
    let mut s = s;
    for prefix in [
        "::std::string::",
        "::std::vec::",
        "::std::option::",
        "::std::collections::",
        "::std::primitive::",
        "::chrono::",
        "::uuid::",
        "::serde_json::",
        "crate::app::types::",
        "crate::admin::types::",
        "types::",
        "super::",
    ] {
        s = s.replace(prefix, "");
    }
    s.replace(",>", ">")
}

fn operation(f: &syn::ImplItemFn) -> String {
    let doc = f
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (method, path) = doc
        .lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("Sends a `")?;
            let (m, rest) = rest.split_once("` request to `")?;
            Some((m.to_string(), rest.trim_end_matches('`').to_string()))
        })
        .unwrap_or_else(|| ("?".into(), "?".into()));
    let params: Vec<String> = f
        .sig
        .inputs
        .iter()
        .filter_map(|i| match i {
            syn::FnArg::Typed(p) => Some(format!(
                "{}: {}",
                tidy(&p.pat.to_token_stream().to_string()),
                tidy(&p.ty.to_token_stream().to_string())
            )),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let ret = match &f.sig.output {
        syn::ReturnType::Type(_, t) => tidy(&t.to_token_stream().to_string()),
        syn::ReturnType::Default => "()".into(),
    };
    // Result<ResponseValue<T>, Error<E>> -> T | E
    let ret = ret
        .strip_prefix("Result<ResponseValue<")
        .and_then(|r| r.strip_suffix(">>"))
        .and_then(|r| r.rsplit_once(">, Error<"))
        .map(|(ok, err)| format!("{ok} | {err}"))
        .unwrap_or(ret);
    let body = f.block.to_token_stream().to_string();
    let mut statuses = Vec::new();
    let mut rest = body.as_str();
    while let Some(i) = rest.find("u16 =>") {
        let digits: String = rest[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let after = &rest[i..];
        let arm_end = after[6..].find("u16 =>").map(|j| j + 6).unwrap_or(after.len());
        let is_err = after[..arm_end].contains("ErrorResponse");
        statuses.push(format!("{digits}{}", if is_err { "!" } else { "" }));
        rest = &after[6..];
    }
    format!(
        "{method} {path} {}({}) -> {ret} [{}]",
        f.sig.ident,
        params.join(", "),
        statuses.join(" ")
    )
}

fn serde_name(attrs: &[syn::Attribute]) -> Option<String> {
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let text = a.meta.to_token_stream().to_string();
        if let Some(i) = text.find("rename = \"") {
            let rest = &text[i + 10..];
            return rest.split('"').next().map(str::to_string);
        }
    }
    None
}

/// What serde fills in when the field is missing from the JSON: `default` (the type's own, such
/// as an empty list or `false`) or the named default function (e.g. `default_bool::<true>`);
/// `None` when a missing field fails decoding (or, for `Option`, is `None`).
fn serde_default(attrs: &[syn::Attribute]) -> Option<String> {
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let text = a.meta.to_token_stream().to_string();
        if let Some(i) = text.find("default = \"") {
            let path = text[i + 11..].split('"').next().unwrap_or_default();
            return Some(path.trim_start_matches("defaults::").to_string());
        }
        if text.contains("(default") || text.contains(", default") {
            return Some("default".into());
        }
    }
    None
}

/// `(type, field)` pairs that a hand-made `Debug` impl prints as `"<redacted>"`.
fn redacted_fields(items: &[syn::Item]) -> Vec<(String, String)> {
    fn scan(ty: &str, stream: proc_macro2::TokenStream, out: &mut Vec<(String, String)>) {
        for tt in stream {
            if let proc_macro2::TokenTree::Group(g) = tt {
                let inner: Vec<String> = g.stream().into_iter().map(|t| t.to_string()).collect();
                if let [field, comma, amp, value] = inner.as_slice() {
                    if comma == "," && amp == "&" && value == "\"<redacted>\"" {
                        out.push((ty.to_string(), field.trim_matches('"').to_string()));
                    }
                }
                scan(ty, g.stream(), out);
            }
        }
    }
    let mut out = Vec::new();
    for item in items {
        if let syn::Item::Impl(imp) = item {
            let is_debug = imp
                .trait_
                .as_ref()
                .is_some_and(|(_, path, _)| path.segments.last().is_some_and(|s| s.ident == "Debug"));
            if is_debug {
                let ty = tidy(&imp.self_ty.to_token_stream().to_string());
                scan(&ty, imp.to_token_stream(), &mut out);
            }
        }
    }
    out
}

fn type_surface(item: &syn::Item, redacted: &[(String, String)]) -> Option<String> {
    let mut out = String::new();
    match item {
        syn::Item::Struct(s) => match &s.fields {
            syn::Fields::Named(named) => {
                writeln!(out, "struct {}", s.ident).unwrap();
                for f in &named.named {
                    let rust = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
                    let wire = serde_name(&f.attrs).unwrap_or_else(|| rust.clone());
                    let ty = tidy(&f.ty.to_token_stream().to_string());
                    let secret = redacted.iter().any(|(t, field)| s.ident == t && *field == rust);
                    let mut note = String::new();
                    if !ty.starts_with("Option<") {
                        if let Some(default) = serde_default(&f.attrs) {
                            write!(note, " (if missing: {default})").unwrap();
                        }
                    }
                    if secret {
                        note.push_str(" (secret: Debug prints <redacted>)");
                    }
                    writeln!(out, "  {wire}: {ty}{note}").unwrap();
                }
            }
            syn::Fields::Unnamed(u) => {
                let inner: Vec<String> = u
                    .unnamed
                    .iter()
                    .map(|f| tidy(&f.ty.to_token_stream().to_string()))
                    .collect();
                writeln!(out, "newtype {}({})", s.ident, inner.join(", ")).unwrap();
            }
            syn::Fields::Unit => writeln!(out, "struct {}", s.ident).unwrap(),
        },
        syn::Item::Enum(e) => {
            writeln!(out, "enum {}", e.ident).unwrap();
            for v in &e.variants {
                let fields = match &v.fields {
                    syn::Fields::Unit => String::new(),
                    other => tidy(&other.to_token_stream().to_string()),
                };
                writeln!(out, "  {}{fields}", v.ident).unwrap();
            }
        }
        syn::Item::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "open_enum") => {
            // open_enum! { #[doc = ..] Name { Variant = "value", ... } }
            let tokens: Vec<proc_macro2::TokenTree> = m.mac.tokens.clone().into_iter().collect();
            let mut name = String::new();
            let mut values = Vec::new();
            for pair in tokens.windows(2) {
                if let (proc_macro2::TokenTree::Ident(i), proc_macro2::TokenTree::Group(g)) = (&pair[0], &pair[1]) {
                    if g.delimiter() == proc_macro2::Delimiter::Brace {
                        name = i.to_string();
                        for tt in g.stream() {
                            if let proc_macro2::TokenTree::Literal(l) = tt {
                                values.push(l.to_string());
                            }
                        }
                    }
                }
            }
            writeln!(out, "open enum {name} = {} | Unknown(String)", values.join(" | ")).unwrap();
        }
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_operations_fields_and_open_enums() {
        let src = r#"
            pub mod types {
                pub struct User {
                    #[serde(rename = "createdAt")]
                    pub created_at: ::chrono::DateTime<::chrono::offset::Utc>,
                    pub tz: ::std::option::Option<::std::string::String>,
                    #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
                    pub tags: ::std::vec::Vec<::std::string::String>,
                    #[serde(rename = "subscribeToEmails", default = "defaults::default_bool::<true>")]
                    pub subscribe_to_emails: bool,
                }
                crate::open_enum! { #[doc = "x"] Kind { A = "a", B = "b" } }
            }
            pub struct Client;
            impl Client {
                /**Get

Sends a `GET` request to `/users/{id}`
*/
                pub async fn users_get<'a>(&'a self, id: &'a str) -> Result<ResponseValue<types::User>, Error<types::ErrorBody>> {
                    match x { 200u16 => ok(), 404u16 => Err(Error::ErrorResponse(y)), _ => z }
                }
            }
        "#;
        let s = surface(src).unwrap();
        assert_eq!(
            s,
            "# 1 operations\nGET /users/{id} users_get(id: &str) -> User | ErrorBody [200 404!]\n\n# 2 types\n\
             open enum Kind = \"a\" | \"b\" | Unknown(String)\n\
             struct User\n  createdAt: DateTime<offset::Utc>\n  tz: Option<String>\n  \
             tags: Vec<String> (if missing: default)\n  subscribeToEmails: bool (if missing: default_bool::<true>)\n"
        );
        assert_eq!(operation_count(&s), 1);
    }
}
