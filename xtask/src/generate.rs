//! Runs progenitor on a normalized document and renders the generated module.

use anyhow::{anyhow, Context, Result};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TypeImpl};
use quote::quote;
use serde_json::Value;

/// One document to generate.
pub struct Api {
    /// Module name in `trophy-generated` (`app`, `admin`).
    pub module: &'static str,
    /// Document under `openapi/`.
    pub document: &'static str,
}

pub const APIS: &[Api] = &[
    Api {
        module: "app",
        document: "application.yaml",
    },
    Api {
        module: "admin",
        document: "admin.yaml",
    },
];

/// Open string enums found in the normalized document: (name, description, values).
fn string_enums(doc: &Value) -> Vec<(String, Option<String>, Vec<String>)> {
    let mut out = Vec::new();
    if let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, s) in schemas {
            let is_string = matches!(s.get("type").and_then(Value::as_str), None | Some("string"));
            if let (true, Some(Value::Array(values))) = (is_string, s.get("enum")) {
                let values = values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
                let desc = s.get("description").and_then(Value::as_str).map(str::to_string);
                out.push((name.clone(), desc, values));
            }
        }
    }
    out
}

/// Properties marked `format: password` (OpenAPI's hint that a value is secret), by schema:
/// (schema name, property names).
fn secret_fields(doc: &Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    if let Some(schemas) = doc.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, s) in schemas {
            let secrets: Vec<String> = s
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(_, p)| p.get("format").and_then(Value::as_str) == Some("password"))
                .map(|(prop, _)| prop.clone())
                .collect();
            if !secrets.is_empty() {
                out.push((name.clone(), secrets));
            }
        }
    }
    out
}

/// The wire name of a generated field: its `#[serde(rename = "..")]`, else its identifier.
fn wire_name(field: &syn::Field) -> String {
    let mut name = field.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                name = meta.value()?.parse::<syn::LitStr>()?.value();
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
    }
    name
}

/// Replaces the derived `Debug` of a struct that holds secrets with one that prints
/// `"<redacted>"` in their place, so logging a response never logs a key.
fn redact_debug(s: &mut syn::ItemStruct, secrets: &[String]) -> Result<syn::Item> {
    let syn::Fields::Named(named) = &s.fields else {
        return Err(anyhow!("{} holds secrets but has no named fields", s.ident));
    };
    for secret in secrets {
        if !named.named.iter().any(|f| wire_name(f) == *secret) {
            return Err(anyhow!("{} has no field `{secret}`", s.ident));
        }
    }
    let mut removed = false;
    for attr in s.attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let paths = attr.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)?;
        let kept: Vec<&syn::Path> = paths.iter().filter(|p| !p.is_ident("Debug")).collect();
        removed |= kept.len() < paths.len();
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
    if !removed {
        return Err(anyhow!("{} does not derive Debug", s.ident));
    }
    let ident = &s.ident;
    let name = ident.to_string();
    let fields = named.named.iter().map(|f| {
        let fi = f.ident.as_ref().expect("named field");
        let label = fi.to_string();
        if secrets.contains(&wire_name(f)) {
            quote! { .field(#label, &"<redacted>") }
        } else {
            quote! { .field(#label, &self.#fi) }
        }
    });
    Ok(syn::parse_quote! {
        impl ::std::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#name) #(#fields)* .finish()
            }
        }
    })
}

fn variant_name(value: &str) -> String {
    let mut out = String::new();
    for part in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        let first = chars.next().expect("non-empty");
        out.push(first.to_ascii_uppercase());
        if part.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        } else {
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// The string enums of `doc` that `owner` (the document of an earlier module) also defines,
/// under the same name and with the same values: one wire concept, so one Rust type, the
/// owner's, which this module re-exports.
pub fn shared_enums(doc: &Value, owner: &Value) -> Vec<String> {
    let theirs = string_enums(owner);
    string_enums(doc)
        .into_iter()
        .filter(|(name, _, values)| {
            theirs.iter().any(|(n, _, v)| {
                let (mut a, mut b) = (values.clone(), v.clone());
                a.sort();
                b.sort();
                n == name && a == b
            })
        })
        .map(|(name, _, _)| name)
        .collect()
}

/// Generates the Rust source of one module from a normalized document. `shared` names the
/// enums taken from another module (`(module, names)`), see [`shared_enums`].
pub fn generate(api: &Api, normalized: &Value, shared: Option<(&str, &[String])>) -> Result<String> {
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(normalized.clone()).context("normalized document is not OpenAPI 3.0")?;
    let (owner, shared): (&str, &[String]) = shared.unwrap_or(("", &[]));
    let mut enums = string_enums(normalized);
    let secrets = secret_fields(normalized);

    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Positional)
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq")
        .with_map_type("::std::collections::BTreeMap");
    for (name, _, _) in &enums {
        let module = if shared.contains(name) { owner } else { api.module };
        settings.with_replacement(
            name,
            format!("crate::{module}::types::{name}"),
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
    let mut generator = Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| anyhow!("progenitor failed on {}: {e}", api.document))?;
    let mut file: syn::File = syn::parse2(tokens).context("progenitor output does not parse")?;

    // Open enums and #[non_exhaustive] go into the generated `types` module; a shared one is
    // re-exported from its owner.
    let reexports: Vec<syn::Item> = shared
        .iter()
        .map(|name| {
            let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
            let owner = syn::Ident::new(owner, proc_macro2::Span::call_site());
            let doc = format!("The same type as in `{owner}`: one wire concept, one type.");
            syn::parse_quote! { #[doc = #doc] pub use crate::#owner::types::#ident; }
        })
        .collect();
    enums.retain(|(name, _, _)| !shared.contains(name));
    let enum_items: Vec<syn::Item> = reexports
        .into_iter()
        .chain(enums.iter().map(|(name, desc, values)| {
            let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
            let doc = desc.clone().unwrap_or_else(|| format!("Values of `{name}`."));
            let variants = values.iter().map(|v| {
                let vi = syn::Ident::new(&variant_name(v), proc_macro2::Span::call_site());
                let vdoc = format!("`{v}`");
                quote! { #[doc = #vdoc] #vi = #v }
            });
            syn::parse_quote! {
                crate::open_enum! {
                    #[doc = #doc]
                    #ident { #(#variants),* }
                }
            }
        }))
        .collect();
    for item in &mut file.items {
        if let syn::Item::Mod(m) = item {
            if m.ident == "types" {
                let content = &mut m.content.as_mut().context("types module has a body")?.1;
                let mut debug_impls = Vec::new();
                for it in content.iter_mut() {
                    match it {
                        syn::Item::Struct(s) => {
                            s.attrs.push(syn::parse_quote!(#[non_exhaustive]));
                            if let Some((_, fields)) = secrets.iter().find(|(name, _)| s.ident == name) {
                                debug_impls.push(redact_debug(s, fields)?);
                            }
                        }
                        syn::Item::Enum(e) => e.attrs.push(syn::parse_quote!(#[non_exhaustive])),
                        _ => {}
                    }
                }
                if debug_impls.len() != secrets.len() {
                    return Err(anyhow!("not every schema with a secret became a struct: {secrets:?}"));
                }
                content.extend(debug_impls);
                content.extend(enum_items.iter().cloned());
            }
        }
    }
    // Everything but the types (progenitor's own client: `Client`, its impls, the imports of
    // progenitor-client, `prelude`) is behind the crate's `client` feature, so that `trophy`,
    // which uses the types only, does not wait for reqwest and its TLS stack to build them.
    for item in &mut file.items {
        let is_types = matches!(item, syn::Item::Mod(m) if m.ident == "types");
        if !is_types {
            if let Some(attrs) = item_attrs(item) {
                attrs.insert(0, syn::parse_quote!(#[cfg(feature = "client")]));
            }
        }
    }
    let body = prettyplease::unparse(&file);
    Ok(format!(
        "// @generated by `cargo xtask regen` from openapi/{} with progenitor.\n\
         // DO NOT EDIT: change the document or the xtask, then run `cargo xtask regen`.\n\
         #![allow(clippy::all, missing_docs, unused_imports, rustdoc::all)]\n\n{body}",
        api.document
    ))
}

/// The attributes of a top-level item of progenitor's output (`None` for kinds it does not
/// produce).
fn item_attrs(item: &mut syn::Item) -> Option<&mut Vec<syn::Attribute>> {
    match item {
        syn::Item::Use(i) => Some(&mut i.attrs),
        syn::Item::Struct(i) => Some(&mut i.attrs),
        syn::Item::Impl(i) => Some(&mut i.attrs),
        syn::Item::Mod(i) => Some(&mut i.attrs),
        syn::Item::Enum(i) => Some(&mut i.attrs),
        syn::Item::Fn(i) => Some(&mut i.attrs),
        syn::Item::Trait(i) => Some(&mut i.attrs),
        syn::Item::Const(i) => Some(&mut i.attrs),
        syn::Item::Type(i) => Some(&mut i.attrs),
        syn::Item::Macro(i) => Some(&mut i.attrs),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::variant_name;

    #[test]
    fn variant_names() {
        assert_eq!(variant_name("user_creation"), "UserCreation");
        assert_eq!(variant_name("OR"), "Or");
        assert_eq!(variant_name("achievement.completed"), "AchievementCompleted");
        assert_eq!(variant_name("true"), "True");
        assert_eq!(variant_name("1"), "V1");
    }
}
