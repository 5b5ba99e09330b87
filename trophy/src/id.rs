//! [`Id`]: what every id parameter takes.

use std::fmt;

/// An id as a parameter: a string (`&str`, `String`) or a [`uuid::Uuid`], the type Trophy's
/// responses give ids as, so an id read from one response goes straight into the next call.
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let created = client.admin().metrics().list().send().await?;
/// if let Some(metric) = created.first() {
///     let again = client.admin().metrics().get(metric.id).send().await?; // a Uuid
///     let by_text = client.admin().metrics().get("0b9c5c1e-6d0e-4b4e-9f57-3f4f2b7e1a10").send().await?;
///     assert_eq!(again.id, by_text.id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(String);

impl Id {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<&str> for Id {
    fn from(value: &str) -> Self {
        Id(value.to_owned())
    }
}

impl From<String> for Id {
    fn from(value: String) -> Self {
        Id(value)
    }
}

impl From<&String> for Id {
    fn from(value: &String) -> Self {
        Id(value.clone())
    }
}

impl From<uuid::Uuid> for Id {
    fn from(value: uuid::Uuid) -> Self {
        Id(value.to_string())
    }
}

impl From<&uuid::Uuid> for Id {
    fn from(value: &uuid::Uuid) -> Self {
        Id(value.to_string())
    }
}

impl From<Id> for String {
    fn from(value: Id) -> Self {
        value.0
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Id;

    #[test]
    fn strings_and_uuids() {
        let u = uuid::Uuid::from_u128(0x0b9c5c1e_6d0e_4b4e_9f57_3f4f2b7e1a10);
        assert_eq!(Id::from(u).as_str(), "0b9c5c1e-6d0e-4b4e-9f57-3f4f2b7e1a10");
        assert_eq!(Id::from(&u), Id::from("0b9c5c1e-6d0e-4b4e-9f57-3f4f2b7e1a10"));
        assert_eq!(String::from(Id::from(String::from("user-1"))), "user-1");
    }
}
