//! What an engine supports. Each engine declares a [`Features`]; the generator only produces
//! modules inside the intersection of the selected engines, so no input is wasted on a module
//! that one engine rejects by design.

use serde::{Deserialize, Serialize};
use wasmparser::{Validator, WasmFeatures};

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

    /// The same features in wasmparser's terms.
    pub fn wasm_features(&self) -> WasmFeatures {
        let mut w = WasmFeatures::MUTABLE_GLOBAL | WasmFeatures::FLOATS | WasmFeatures::GC_TYPES;
        let map = [
            (
                self.saturating_float_to_int,
                WasmFeatures::SATURATING_FLOAT_TO_INT,
            ),
            (self.sign_extension, WasmFeatures::SIGN_EXTENSION),
            (self.multi_value, WasmFeatures::MULTI_VALUE),
            (self.bulk_memory, WasmFeatures::BULK_MEMORY),
            (self.reference_types, WasmFeatures::REFERENCE_TYPES),
            (self.simd, WasmFeatures::SIMD),
            (self.relaxed_simd, WasmFeatures::RELAXED_SIMD),
            (self.tail_call, WasmFeatures::TAIL_CALL),
            (self.extended_const, WasmFeatures::EXTENDED_CONST),
            (self.multi_memory, WasmFeatures::MULTI_MEMORY),
            (self.memory64, WasmFeatures::MEMORY64),
            (self.custom_page_sizes, WasmFeatures::CUSTOM_PAGE_SIZES),
            (self.wide_arithmetic, WasmFeatures::WIDE_ARITHMETIC),
            (self.threads, WasmFeatures::THREADS),
            (self.exceptions, WasmFeatures::EXCEPTIONS),
            (
                self.gc,
                WasmFeatures::GC.union(WasmFeatures::FUNCTION_REFERENCES),
            ),
        ];
        for (on, flag) in map {
            if on {
                w |= flag;
            }
        }
        w
    }

    /// The fewest features `module` is valid with (each one it can do without turned off,
    /// in order); `None` if no features make it valid.
    pub fn needed_by(module: &[u8]) -> Option<Features> {
        let mut needed = Features::ALL;
        needed.validate(module).ok()?;
        for (name, _) in Features::ALL.flags() {
            let mut fewer = needed;
            fewer.set(name, false);
            if fewer.validate(module).is_ok() {
                needed = fewer;
            }
        }
        Some(needed)
    }

    /// Whether every feature on in `other` is on here.
    pub fn covers(&self, other: &Features) -> bool {
        self.intersect(other) == *other
    }

    /// The features on in either.
    pub fn union(&self, other: &Features) -> Features {
        let mut union = *self;
        for (name, on) in other.flags() {
            if on {
                union.set(name, true);
            }
        }
        union
    }

    /// Whether `module` is valid using only these features; if not, wasmparser's reason.
    pub fn validate(&self, module: &[u8]) -> Result<(), String> {
        Validator::new_with_features(self.wasm_features())
            .validate_all(module)
            .map(drop)
            .map_err(|e| e.message().to_string())
    }
}

/// What the modules for a lineup of engines may use. Each input picks one entry: the features
/// every engine shares (a quarter of the time), or those of a pair of engines, so a proposal
/// that two engines support is tested even when a third lacks it. Engines whose features do
/// not cover a module sit it out.
#[derive(Clone, Debug)]
pub struct FeatureMenu {
    common: Features,
    pairs: Vec<Features>,
}

impl FeatureMenu {
    /// The menu for engines with these features (one entry per engine).
    pub fn new(engines: &[Features]) -> FeatureMenu {
        let mut pairs: Vec<Features> = Vec::new();
        for (i, a) in engines.iter().enumerate() {
            for b in &engines[i + 1..] {
                let both = a.intersect(b);
                if !pairs.contains(&both) {
                    pairs.push(both);
                }
            }
        }
        FeatureMenu {
            common: Features::common(engines),
            pairs,
        }
    }

    /// What every engine supports.
    pub fn common(&self) -> &Features {
        &self.common
    }

    /// The entry chosen by an input byte.
    pub fn pick(&self, byte: u8) -> &Features {
        match byte.checked_sub(64) {
            Some(i) if !self.pairs.is_empty() => &self.pairs[usize::from(i) % self.pairs.len()],
            _ => &self.common,
        }
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
    fn the_menu_offers_what_two_engines_share() {
        let mut simd_only = Features::NONE;
        simd_only.simd = true;
        let mut simd_and_gc = simd_only;
        simd_and_gc.gc = true;
        let menu = FeatureMenu::new(&[simd_and_gc, simd_and_gc, Features::NONE]);
        assert_eq!(*menu.common(), Features::NONE);
        assert_eq!(*menu.pick(0), Features::NONE);
        let offered: Vec<Features> = (64..=255).map(|b| *menu.pick(b)).collect();
        assert!(offered.contains(&simd_and_gc));
        assert!(!offered.contains(&simd_only));
    }

    #[test]
    fn validation_follows_the_features() {
        let simd = wat::parse_str("(module (func (result v128) v128.const i64x2 1 2))").unwrap();
        let mut features = Features::NONE;
        assert!(features.validate(&simd).unwrap_err().contains("SIMD"));
        features.simd = true;
        features.validate(&simd).unwrap();
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
