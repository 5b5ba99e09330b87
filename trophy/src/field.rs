//! A request field that can be set, left alone, or cleared.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The state of one optional field in a request: left alone (not sent), cleared (sent as
/// `null`), or set to a value.
///
/// Builders fill these in for you (`.tz("Europe/London")`, `.clear_tz()`); the type is public
/// so that request items can be inspected and built generically.
///
/// ```no_run
/// use trophy::Field;
/// let tz: Field<String> = Field::Set("Europe/London".into());
/// assert!(tz.is_set());
/// assert!(Field::<String>::Unset.is_unset());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Field<T> {
    /// Not sent: the server keeps what it has.
    #[default]
    Unset,
    /// Sent as `null`: the server clears the value.
    Null,
    /// Sent with this value.
    Set(T),
}

impl<T> Field<T> {
    /// Whether the field is left out of the request.
    pub fn is_unset(&self) -> bool {
        matches!(self, Field::Unset)
    }

    /// Whether the field carries a value.
    pub fn is_set(&self) -> bool {
        matches!(self, Field::Set(_))
    }

    /// The value, if set.
    pub fn as_set(&self) -> Option<&T> {
        match self {
            Field::Set(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> From<T> for Field<T> {
    fn from(value: T) -> Self {
        Field::Set(value)
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Set(v) => v.serialize(serializer),
            // `Unset` is skipped by the containers (`skip_serializing_if = "Field::is_unset"`);
            // serialized on its own, it is `null` like `Null`.
            Field::Null | Field::Unset => serializer.serialize_none(),
        }
    }
}

/// `null` reads as [`Field::Null`] and a value as [`Field::Set`]; a missing field is
/// [`Field::Unset`] when the container marks it `#[serde(default)]`.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Field::Null, Field::Set))
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Field<T> {
    fn schema_name() -> String {
        format!("Nullable_{}", T::schema_name())
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        <Option<T>>::json_schema(gen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Patch {
        #[serde(default, skip_serializing_if = "Field::is_unset")]
        a: Field<u32>,
        #[serde(default, skip_serializing_if = "Field::is_unset")]
        b: Field<u32>,
        #[serde(default, skip_serializing_if = "Field::is_unset")]
        c: Field<u32>,
    }

    #[test]
    fn three_states_serialize_distinctly() {
        let p = Patch {
            a: Field::Unset,
            b: Field::Null,
            c: Field::Set(3),
        };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"b":null,"c":3}"#);
        let back: Patch = serde_json::from_str(r#"{"b":null,"c":3}"#).unwrap();
        assert_eq!(back, p);
    }
}
