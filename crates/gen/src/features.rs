//! What an engine supports. Each engine declares a [`Features`]; the generator only produces
//! modules inside the intersection of the selected engines, so no input is wasted on a module
//! that one engine rejects by design.

use serde::{Deserialize, Serialize};

macro_rules! features {
    ($($(#[$doc:meta])* $field:ident => $name:literal,)*) => {
        /// Wasm proposals (and calling abilities) an engine supports.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub struct Features {
            $($(#[$doc])* pub $field: bool,)*
        }

        impl Features {
            /// Every feature on: the neutral element of [`Features::intersect`].
            pub const ALL: Features = Features { $($field: true,)* };
            /// Every feature off: the base for declaring an engine's features in a `const`.
            pub const NONE: Features = Features { $($field: false,)* };

            /// Features on in both `self` and `other`.
            pub fn intersect(&self, other: &Features) -> Features {
                Features { $($field: self.$field && other.$field,)* }
            }

            /// `(name, enabled)` for every feature, in a fixed order.
            pub fn flags(&self) -> Vec<(&'static str, bool)> {
                vec![$(($name, self.$field),)*]
            }

            /// Whether the feature called `name` is on; `None` if there is no such feature.
            pub fn get(&self, name: &str) -> Option<bool> {
                match name {
                    $($name => Some(self.$field),)*
                    _ => None,
                }
            }

            /// Turns the feature called `name` on or off; false if there is no such feature.
            pub fn set(&mut self, name: &str, on: bool) -> bool {
                match name {
                    $($name => { self.$field = on; true })*
                    _ => false,
                }
            }
        }
    };
}

features! {
    saturating_float_to_int => "saturating-float-to-int",
    sign_extension => "sign-extension",
    multi_value => "multi-value",
    bulk_memory => "bulk-memory",
    reference_types => "reference-types",
    simd => "simd",
    /// Only with the spec's deterministic semantics: otherwise results legitimately differ.
    relaxed_simd => "relaxed-simd",
    tail_call => "tail-call",
    extended_const => "extended-const",
    multi_memory => "multi-memory",
    memory64 => "memory64",
    custom_page_sizes => "custom-page-sizes",
    wide_arithmetic => "wide-arithmetic",
    threads => "threads",
    exceptions => "exceptions",
    gc => "gc",
    /// The engine can call an export whose signature holds `v128` (JS embeddings cannot).
    v128_signatures => "v128-signatures",
}

impl Features {
    /// The names of the features that are on.
    pub fn enabled(&self) -> Vec<&'static str> {
        self.flags()
            .into_iter()
            .filter_map(|(name, on)| on.then_some(name))
            .collect()
    }

    /// The intersection of many feature sets (all features for none).
    pub fn common<'a>(sets: impl IntoIterator<Item = &'a Features>) -> Features {
        sets.into_iter()
            .fold(Features::ALL, |acc, f| acc.intersect(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersection_keeps_only_shared_features() {
        let mut a = Features::ALL;
        a.simd = false;
        let mut b = Features::default();
        b.simd = true;
        b.gc = true;
        let both = Features::common([&a, &b]);
        assert_eq!(both.enabled(), vec!["gc"]);
    }

    #[test]
    fn set_by_name_round_trips_flags() {
        let mut f = Features::default();
        for (name, _) in Features::ALL.flags() {
            assert!(f.set(name, true), "{name}");
        }
        assert_eq!(f, Features::ALL);
        assert!(!f.set("no-such-feature", true));
    }
}
