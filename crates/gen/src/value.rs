//! Wasm values and types as the harness sees them, independent of any engine's value type.
//!
//! Values print and parse as `type:payload` (`i32:-1`, `f32:1.5`, `f32:nan:0x7fc00001`,
//! `v128:0x…`, `funcref:null`) so that reports and stored cases keep every bit, NaN payloads
//! included, and a user can type them on the command line.

use std::fmt;
use std::str::FromStr;

use arbitrary::{Result, Unstructured};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The heap type of a reference, reduced to what the harness can create or observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefHeap {
    Func,
    Extern,
    /// Any other heap type (GC, exceptions, concrete types): observable, not creatable.
    Any,
}

/// A value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref { heap: RefHeap, nullable: bool },
}

impl ValType {
    pub const FUNCREF: ValType = ValType::Ref {
        heap: RefHeap::Func,
        nullable: true,
    };
    pub const EXTERNREF: ValType = ValType::Ref {
        heap: RefHeap::Extern,
        nullable: true,
    };

    /// Whether the harness can make an argument of this type (references: only null).
    pub fn is_passable(&self) -> bool {
        match self {
            ValType::Ref { heap, nullable } => *nullable && *heap != RefHeap::Any,
            _ => true,
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref { heap, nullable } => {
                let heap = match heap {
                    RefHeap::Func => "func",
                    RefHeap::Extern => "extern",
                    RefHeap::Any => "any",
                };
                if *nullable {
                    write!(f, "{heap}ref")
                } else {
                    write!(f, "(ref {heap})")
                }
            }
        }
    }
}

/// A value. Floats are kept as bits so that NaN payloads survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    Ref { heap: RefHeap, null: bool },
}

impl Value {
    pub fn ty(&self) -> ValType {
        match self {
            Value::I32(_) => ValType::I32,
            Value::I64(_) => ValType::I64,
            Value::F32(_) => ValType::F32,
            Value::F64(_) => ValType::F64,
            Value::V128(_) => ValType::V128,
            Value::Ref { heap, .. } => ValType::Ref {
                heap: *heap,
                nullable: true,
            },
        }
    }

    /// The zero (or null) value of a passable type.
    pub fn zero(ty: ValType) -> Value {
        match ty {
            ValType::I32 => Value::I32(0),
            ValType::I64 => Value::I64(0),
            ValType::F32 => Value::F32(0),
            ValType::F64 => Value::F64(0),
            ValType::V128 => Value::V128(0),
            ValType::Ref { heap, .. } => Value::Ref { heap, null: true },
        }
    }

    /// Parses a value of type `ty` from either the typed form (`i32:5`) or a bare payload (`5`).
    pub fn parse_as(text: &str, ty: ValType) -> std::result::Result<Value, String> {
        let value = if text.contains(':') {
            text.parse::<Value>()?
        } else {
            format!("{ty}:{text}").parse::<Value>()?
        };
        let matches = match (value.ty(), ty) {
            (ValType::Ref { heap: a, .. }, ValType::Ref { heap: b, .. }) => a == b,
            (a, b) => a == b,
        };
        if matches {
            Ok(value)
        } else {
            Err(format!("`{text}` is not a {ty}"))
        }
    }
}

fn fmt_float(
    f: &mut fmt::Formatter<'_>,
    ty: &str,
    value: f64,
    is_nan: bool,
    bits: u64,
    width: usize,
) -> fmt::Result {
    if is_nan {
        write!(f, "{ty}:nan:0x{bits:0width$x}")
    } else if value.is_infinite() {
        write!(f, "{ty}:{}inf", if value < 0.0 { "-" } else { "" })
    } else {
        write!(f, "{ty}:{value:?}")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(bits) => {
                let v = f32::from_bits(bits);
                if v.is_nan() || v.is_infinite() {
                    fmt_float(f, "f32", v as f64, v.is_nan(), bits as u64, 8)
                } else {
                    write!(f, "f32:{v:?}")
                }
            }
            Value::F64(bits) => {
                let v = f64::from_bits(bits);
                fmt_float(f, "f64", v, v.is_nan(), bits, 16)
            }
            Value::V128(bits) => write!(f, "v128:0x{bits:032x}"),
            Value::Ref { heap, null } => {
                let ty = ValType::Ref {
                    heap,
                    nullable: true,
                };
                write!(f, "{ty}:{}", if null { "null" } else { "non-null" })
            }
        }
    }
}

fn parse_hex(text: &str) -> Option<u128> {
    let hex = text.strip_prefix("0x")?;
    u128::from_str_radix(&hex.replace('_', ""), 16).ok()
}

fn parse_float_bits(payload: &str, width: u32) -> std::result::Result<u64, String> {
    let bad = || format!("bad f{width} `{payload}`");
    let bits = if let Some(bits) = payload.strip_prefix("nan:") {
        parse_hex(bits).ok_or_else(bad)? as u64
    } else if let Some(bits) = parse_hex(payload) {
        bits as u64
    } else if width == 32 {
        payload.parse::<f32>().map_err(|_| bad())?.to_bits() as u64
    } else {
        payload.parse::<f64>().map_err(|_| bad())?.to_bits()
    };
    if width == 32 && bits > u32::MAX as u64 {
        return Err(bad());
    }
    Ok(bits)
}

fn parse_int<T: FromStr + TryFrom<u128>>(payload: &str) -> Option<T> {
    payload
        .parse::<T>()
        .ok()
        .or_else(|| parse_hex(payload).and_then(|v| T::try_from(v).ok()))
}

impl FromStr for Value {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Value, String> {
        let (ty, payload) = text
            .split_once(':')
            .ok_or_else(|| format!("value `{text}` needs a type, as in i32:{text}"))?;
        let bad = || format!("bad {ty} value `{payload}`");
        Ok(match ty {
            // Hex literals give the bit pattern, so u32 forms are accepted too.
            "i32" => Value::I32(
                parse_int::<i32>(payload)
                    .or_else(|| parse_int::<u32>(payload).map(|v| v as i32))
                    .ok_or_else(bad)?,
            ),
            "i64" => Value::I64(
                parse_int::<i64>(payload)
                    .or_else(|| parse_int::<u64>(payload).map(|v| v as i64))
                    .ok_or_else(bad)?,
            ),
            "f32" => Value::F32(parse_float_bits(payload, 32)? as u32),
            "f64" => Value::F64(parse_float_bits(payload, 64)?),
            "v128" => Value::V128(parse_hex(payload).ok_or_else(bad)?),
            "funcref" | "externref" | "anyref" => {
                let heap = match ty {
                    "funcref" => RefHeap::Func,
                    "externref" => RefHeap::Extern,
                    _ => RefHeap::Any,
                };
                let null = match payload {
                    "null" => true,
                    "non-null" => false,
                    _ => return Err(bad()),
                };
                Value::Ref { heap, null }
            }
            _ => return Err(format!("unknown value type `{ty}` in `{text}`")),
        })
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Value, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

pub(crate) const I32_EDGES: &[i32] = &[
    0,
    1,
    -1,
    2,
    -2,
    3,
    7,
    8,
    15,
    16,
    31,
    32,
    33,
    63,
    64,
    65,
    127,
    128,
    255,
    256,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    65532,
    65535,
    i32::MAX,
    i32::MIN,
    i32::MAX - 1,
    i32::MIN + 1,
    0x0f0f_0f0f,
    0x5555_5555,
    -0x5555_5556,
    0x7f80_0000,
    -0x0080_0000,
    0x7fc0_0000,
];

pub(crate) const I64_EDGES: &[i64] = &[
    0,
    1,
    -1,
    2,
    -2,
    31,
    32,
    33,
    63,
    64,
    65,
    127,
    128,
    255,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    -0x8000_0000,
    -0x8000_0001,
    i64::MAX,
    i64::MIN,
    i64::MAX - 1,
    i64::MIN + 1,
    0x5555_5555_5555_5555,
    0x7ff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    -0x0010_0000_0000_0000,
];

pub(crate) const F32_EDGES: &[u32] = &[
    0x0000_0000, // 0.0
    0x8000_0000, // -0.0
    0x3f80_0000, // 1.0
    0xbf80_0000, // -1.0
    0x3f00_0000, // 0.5
    0xbf00_0000, // -0.5
    0x3fc0_0000, // 1.5
    0x4020_0000, // 2.5
    0xc020_0000, // -2.5
    0x7f80_0000, // inf
    0xff80_0000, // -inf
    0x7fc0_0000, // canonical NaN
    0xffc0_0000, // negative NaN
    0x7fa0_0000, // signalling NaN
    0x7fc0_0001, // NaN with payload
    0x0000_0001, // smallest subnormal
    0x807f_ffff, // largest negative subnormal
    0x0080_0000, // smallest normal
    0x7f7f_ffff, // max
    0xff7f_ffff, // min
    0x4f00_0000, // 2^31
    0xcf00_0000, // -2^31
    0x4eff_ffff, // largest below 2^31
    0xcf00_0001, // just below -2^31
    0x4f80_0000, // 2^32
    0x4f7f_ffff, // largest below 2^32
    0x5f00_0000, // 2^63
    0xdf00_0000, // -2^63
    0x5f80_0000, // 2^64
    0x4b80_0000, // 2^24
];

pub(crate) const F64_EDGES: &[u64] = &[
    0x0000_0000_0000_0000, // 0.0
    0x8000_0000_0000_0000, // -0.0
    0x3ff0_0000_0000_0000, // 1.0
    0xbff0_0000_0000_0000, // -1.0
    0x3fe0_0000_0000_0000, // 0.5
    0xbfe0_0000_0000_0000, // -0.5
    0x4004_0000_0000_0000, // 2.5
    0xc004_0000_0000_0000, // -2.5
    0x7ff0_0000_0000_0000, // inf
    0xfff0_0000_0000_0000, // -inf
    0x7ff8_0000_0000_0000, // canonical NaN
    0xfff8_0000_0000_0000, // negative NaN
    0x7ff4_0000_0000_0000, // signalling NaN
    0x7ff8_0000_0000_0001, // NaN with payload
    0x0000_0000_0000_0001, // smallest subnormal
    0x800f_ffff_ffff_ffff, // largest negative subnormal
    0x0010_0000_0000_0000, // smallest normal
    0x7fef_ffff_ffff_ffff, // max
    0xffef_ffff_ffff_ffff, // min
    0x41e0_0000_0000_0000, // 2^31
    0xc1e0_0000_0000_0000, // -2^31
    0x41df_ffff_ffc0_0000, // 2^31 - 1
    0xc1e0_0000_0020_0000, // -2^31 - 1
    0x41f0_0000_0000_0000, // 2^32
    0x41ef_ffff_ffe0_0000, // 2^32 - 1
    0x43e0_0000_0000_0000, // 2^63
    0xc3e0_0000_0000_0000, // -2^63
    0x43f0_0000_0000_0000, // 2^64
    0x4340_0000_0000_0000, // 2^53
    0x3ff0_0000_0000_0001, // 1 + ulp
];

/// An edge-biased value of type `ty`: usually a boundary value, sometimes raw input bits.
pub fn arbitrary_value(u: &mut Unstructured<'_>, ty: ValType) -> Result<Value> {
    let edge = u.ratio(3, 4)?;
    Ok(match ty {
        ValType::I32 => Value::I32(if edge {
            *u.choose(I32_EDGES)?
        } else {
            u.arbitrary()?
        }),
        ValType::I64 => Value::I64(if edge {
            *u.choose(I64_EDGES)?
        } else {
            u.arbitrary()?
        }),
        ValType::F32 => Value::F32(if edge {
            *u.choose(F32_EDGES)?
        } else {
            u.arbitrary()?
        }),
        ValType::F64 => Value::F64(if edge {
            *u.choose(F64_EDGES)?
        } else {
            u.arbitrary()?
        }),
        ValType::V128 => Value::V128(if edge {
            arbitrary_v128_lanes(u)?
        } else {
            u.arbitrary()?
        }),
        ValType::Ref { heap, .. } => Value::Ref { heap, null: true },
    })
}

/// A vector whose lanes are edge values of one lane shape.
fn arbitrary_v128_lanes(u: &mut Unstructured<'_>) -> Result<u128> {
    let mut bits = 0u128;
    match u.int_in_range(0..=3)? {
        0 => {
            for lane in 0..16 {
                let v = *u.choose(&[0u8, 1, 0x7f, 0x80, 0xff, 0x0f, 0xf0])?;
                bits |= (v as u128) << (lane * 8);
            }
        }
        1 => {
            for lane in 0..8 {
                let v = *u.choose(&[0u16, 1, 0x7fff, 0x8000, 0xffff, 0x00ff, 0x4000])?;
                bits |= (v as u128) << (lane * 16);
            }
        }
        2 => {
            for lane in 0..4 {
                let v = if u.arbitrary()? {
                    *u.choose(I32_EDGES)? as u32
                } else {
                    *u.choose(F32_EDGES)?
                };
                bits |= (v as u128) << (lane * 32);
            }
        }
        _ => {
            for lane in 0..2 {
                let v = if u.arbitrary()? {
                    *u.choose(I64_EDGES)? as u64
                } else {
                    *u.choose(F64_EDGES)?
                };
                bits |= (v as u128) << (lane * 64);
            }
        }
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_text() {
        let values = [
            Value::I32(-1),
            Value::I32(i32::MIN),
            Value::I64(i64::MAX),
            Value::F32(0x7fc0_0001),
            Value::F32(0x8000_0000),
            Value::F32(0x0000_0001),
            Value::F32(0xff80_0000),
            Value::F64(0x7ff4_0000_0000_0000),
            Value::F64(0x3ff0_0000_0000_0001),
            Value::V128(u128::MAX - 5),
            Value::Ref {
                heap: RefHeap::Func,
                null: true,
            },
        ];
        for v in values {
            let text = v.to_string();
            assert_eq!(text.parse::<Value>(), Ok(v), "{text}");
        }
    }

    #[test]
    fn bare_payloads_parse_against_a_type() {
        assert_eq!(Value::parse_as("5", ValType::I32), Ok(Value::I32(5)));
        assert_eq!(
            Value::parse_as("0xffffffff", ValType::I32),
            Ok(Value::I32(-1))
        );
        assert_eq!(
            Value::parse_as("1.5", ValType::F64),
            Ok(Value::F64(1.5f64.to_bits()))
        );
        assert_eq!(
            Value::parse_as("-inf", ValType::F32),
            Ok(Value::F32(0xff80_0000))
        );
        assert!(Value::parse_as("i64:5", ValType::I32).is_err());
        assert!(Value::parse_as("five", ValType::I32).is_err());
        assert!("i32".parse::<Value>().is_err());
    }

    #[test]
    fn exhausted_input_still_gives_a_value_of_the_type() {
        let mut u = Unstructured::new(&[]);
        for ty in [
            ValType::I32,
            ValType::I64,
            ValType::F32,
            ValType::F64,
            ValType::V128,
        ] {
            assert_eq!(arbitrary_value(&mut u, ty).unwrap().ty(), ty);
        }
    }
}
