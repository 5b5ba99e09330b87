//! Generated bindings of Trophy's Application API ([`app`]) and Admin API ([`admin`]).
//!
//! This crate is an implementation detail of [`trophy`](https://docs.rs/trophy): its modules
//! `app` and `admin` are written by `cargo xtask regen` from the documents in `openapi/` and
//! are never edited by hand. What is hand-written lives here, in `lib.rs`: the [`open_enum!`]
//! macro that every enum of the documents is generated with, so that a value unknown to this
//! version is kept as `Unknown(String)` instead of failing the call.
#![forbid(unsafe_code)]

/// Defines an open string enum: known values as variants, anything else kept verbatim in
/// `Unknown(String)`. Serializes to and from the plain string; round-trips unknown values.
#[macro_export]
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of the SDK does not know, kept as sent.
            Unknown(::std::string::String),
        }

        impl $name {
            /// Every value this version knows, in document order.
            pub const KNOWN: &'static [&'static str] = &[$($value),+];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)+
                    Self::Unknown(other) => other.as_str(),
                }
            }

            /// Whether this is a value this version of the SDK knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($value => Self::$variant,)+
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    $($value => Self::$variant,)+
                    _ => Self::Unknown(value),
                }
            }
        }

        impl ::std::convert::From<&::std::string::String> for $name {
            fn from(value: &::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct Visitor;
                impl<'de> ::serde::de::Visitor<'de> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, value: &str) -> ::std::result::Result<$name, E> {
                        Ok($name::from(value))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, value: ::std::string::String) -> ::std::result::Result<$name, E> {
                        Ok($name::from(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::string::String {
                stringify!($name).to_string()
            }
            fn json_schema(_: &mut ::schemars::gen::SchemaGenerator) -> ::schemars::schema::Schema {
                // Open: any string is accepted; the known values are listed as examples.
                ::schemars::schema::SchemaObject {
                    instance_type: Some(::schemars::schema::InstanceType::String.into()),
                    metadata: Some(Box::new(::schemars::schema::Metadata {
                        examples: vec![$(::serde_json::json!($value)),+],
                        ..Default::default()
                    })),
                    ..Default::default()
                }
                .into()
            }
        }
    };
}

/// Which of Trophy's two APIs an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKind {
    /// The Application API (`https://api.trophy.so/v1`).
    App,
    /// The Admin API (`https://admin.trophy.so/v1`).
    Admin,
}

/// The HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method as written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// How the value of a query parameter is written into the query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryStyle {
    /// One value: `name=value`.
    Scalar,
    /// A list, one pair per item (`style: form, explode: true`): `name=a&name=b`.
    Repeated,
    /// A list joined by commas into one value (`style: form, explode: false`): `name=a,b`.
    CommaJoined,
}

/// One query parameter of an operation, as the document declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueryParam {
    /// The name on the wire.
    pub name: &'static str,
    /// How its value is written.
    pub style: QueryStyle,
    /// Whether the document requires it.
    pub required: bool,
}

/// Everything the transport needs to know about one operation of the documents.
///
/// One `pub const` per operation is generated into [`operations`]; the SDK fills the path
/// template's parameters, in order, and adds the query parameters the caller set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The document's `operationId`, unique across both APIs.
    pub id: &'static str,
    /// The API it belongs to.
    pub api: ApiKind,
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path template relative to the API's base URL, e.g. `/metrics/{key}/event`.
    pub path: &'static str,
    /// The names of the path template's parameters, in the order they appear in it.
    pub path_params: &'static [&'static str],
    /// The query parameters, in document order.
    pub query: &'static [QueryParam],
    /// The request body's schema (`None` when there is no body); inline schemas are named
    /// after the operation, as in the generated types.
    pub request: Option<&'static str>,
    /// The schema of the first success response (`()` when it has no body); a list is written
    /// `Vec<Item>`.
    pub response: &'static str,
    /// The success statuses the document lists.
    pub success: &'static [u16],
}

/// One descriptor per operation of both documents, written by `cargo xtask regen`.
#[rustfmt::skip]
pub mod operations;

/// The Admin API (`https://admin.trophy.so/v1`), generated from `openapi/admin.yaml`.
#[rustfmt::skip]
pub mod admin;
/// The Application API (`https://api.trophy.so/v1`), generated from `openapi/application.yaml`.
#[rustfmt::skip]
pub mod app;

#[cfg(test)]
mod tests {
    crate::open_enum! {
        /// A test enum.
        Colour { Red = "red", DarkBlue = "dark_blue" }
    }

    #[test]
    fn known_and_unknown_values_round_trip() {
        let v: Vec<Colour> = serde_json::from_str(r#"["red","dark_blue","green"]"#).unwrap();
        assert_eq!(v, vec![Colour::Red, Colour::DarkBlue, Colour::Unknown("green".into())]);
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"["red","dark_blue","green"]"#);
        assert!(!v[2].is_known());
        assert_eq!(Colour::KNOWN, &["red", "dark_blue"]);
        assert_eq!("dark_blue".parse::<Colour>().unwrap().to_string(), "dark_blue");
    }

    #[test]
    fn non_strings_are_rejected() {
        assert!(serde_json::from_str::<Colour>("3").is_err());
    }
}
