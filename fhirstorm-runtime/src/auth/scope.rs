//! SMART scopes, v1 (`patient/*.read`) and v2 (`patient/Observation.rs?category=...`), and the
//! others (`openid fhirUser profile launch launch/patient offline_access online_access`).

use std::fmt;
use std::str::FromStr;

/// One scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A resource scope: `{context}/{type}.{permissions}[?query]`.
    Resource {
        /// `patient`, `user` or `system`.
        context: String,
        /// A resource type or `*`.
        resource_type: String,
        /// v1 `read` / `write` / `*`, or v2 letters from `cruds` in that order.
        permissions: String,
        /// The v2 query (`category=...`), without the `?`.
        query: Option<String>,
    },
    /// Any other scope (`openid`, `fhirUser`, `launch/patient`, `offline_access`, ...).
    Other(String),
}

impl Scope {
    /// Whether this is a SMART v2 resource scope (`.cruds` permissions).
    pub fn is_v2(&self) -> bool {
        matches!(self, Scope::Resource { permissions, .. } if !matches!(permissions.as_str(), "read" | "write" | "*"))
    }
}

/// A scope that is not valid SMART.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeError(String);

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid scope {:?}", self.0)
    }
}

impl std::error::Error for ScopeError {}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Scope, ScopeError> {
        let bad = || ScopeError(s.to_string());
        if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let Some((context, rest)) = s.split_once('/') else { return Ok(Scope::Other(s.to_string())) };
        if !matches!(context, "patient" | "user" | "system") || !rest.contains('.') {
            // `launch/patient`, `launch/encounter`: not resource scopes.
            return Ok(Scope::Other(s.to_string()));
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q.to_string())),
            None => (rest, None),
        };
        let (ty, permissions) = rest.split_once('.').ok_or_else(bad)?;
        let type_ok = ty == "*"
            || (ty.starts_with(|c: char| c.is_ascii_uppercase()) && ty.chars().all(|c| c.is_ascii_alphanumeric()));
        let v1 = matches!(permissions, "read" | "write" | "*");
        let v2 = !permissions.is_empty() && {
            // c, r, u, d, s: each at most once, in this order.
            let mut last = None;
            permissions.chars().all(|c| {
                let i = "cruds".find(c);
                let ok = i.is_some() && i > last;
                last = i;
                ok
            })
        };
        if !type_ok || !(v1 || v2) || (query.is_some() && !v2) {
            return Err(bad());
        }
        Ok(Scope::Resource {
            context: context.to_string(),
            resource_type: ty.to_string(),
            permissions: permissions.to_string(),
            query,
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Resource { context, resource_type, permissions, query } => {
                write!(f, "{context}/{resource_type}.{permissions}")?;
                if let Some(q) = query {
                    write!(f, "?{q}")?;
                }
                Ok(())
            }
            Scope::Other(s) => f.write_str(s),
        }
    }
}

/// A space-separated list of scopes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// The scopes.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Whether `scope` is among them.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.to_string() == scope)
    }
}

impl FromStr for Scopes {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Scopes, ScopeError> {
        s.split_whitespace().map(Scope::from_str).collect::<Result<Vec<_>, _>>().map(Scopes)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_v2_and_others_round_trip() {
        let text = "openid fhirUser profile launch launch/patient offline_access online_access patient/*.read user/Observation.write system/*.* patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory user/Patient.cruds";
        let scopes: Scopes = text.parse().unwrap();
        assert_eq!(scopes.to_string(), text);
        let v2: Vec<bool> = scopes.iter().map(Scope::is_v2).collect();
        assert_eq!(v2, [false, false, false, false, false, false, false, false, false, false, true, true]);
        assert!(scopes.contains("launch/patient"));
    }

    #[test]
    fn invalid_scopes() {
        for bad in [
            "patient/Observation.sr",
            "patient/Observation.rr",
            "patient/observation.read",
            "patient/*.read?x=1",
            "patient/Observation.",
            "user/Patient.xyz",
        ] {
            assert!(bad.parse::<Scope>().is_err(), "{bad}");
        }
    }
}
