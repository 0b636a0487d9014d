//! The corner sweep: every instruction of the instruction table, and the memory, bulk-memory
//! and table instructions it leaves out, against every combination of its operands' corner
//! values; operations of three operands against a reduced product that still holds every pair
//! of corners; SIMD instructions against vectors whose lanes, taken together, hold every pair
//! of lane corners; memory accesses at every address from a few bytes before the memory's end
//! to past it, in memories of 0, 1 and 3 pages, with and without offsets, at every alignment.
//!
//! Each tuple runs twice: its operands passed as parameters, and written as constants
//! (compilers fold constants by rules of their own). Tuples are packed into chunks, a module
//! each (one function per instruction form taking parameters, one function per tuple with
//! constants), so that an engine compiles once per few hundred tuples. The sweep is a fixed,
//! ordered list of chunks: the same tuples in the same order on any machine.

use std::fmt::Write;
use std::sync::OnceLock;

use crate::GenerateError;
use crate::features::Features;
use crate::plan::Invocation;
use crate::single::{Canon, Op, ops, wat_const};
use crate::value::{F32_EDGES, F64_EDGES, I32_EDGES, I64_EDGES, ValType, Value};

/// Tuples per chunk at most (each runs twice, so twice as many calls).
const TUPLES_PER_CHUNK: usize = 400;

/// What one call of a chunk tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The instruction swept (`i32.load16_u`, `table.grow`).
    pub name: &'static str,
    /// Its code with immediates, as in the text format (`i32.load16_u offset=1 align=1`; some
    /// instructions need others around them).
    pub instruction: String,
    pub operands: Vec<Value>,
    /// Whether the operands are constants in the code (else they are the call's arguments).
    pub constants: bool,
}

/// A module packing many tuples, the calls that run them, and what each call tests.
#[derive(Clone, Debug)]
pub struct Chunk {
    pub index: usize,
    pub module: Vec<u8>,
    pub calls: Vec<Invocation>,
    /// One per call, in the calls' order.
    pub probes: Vec<Probe>,
}

impl Chunk {
    /// The module and call of probe `call` alone: a case of that one tuple.
    pub fn single(&self, call: usize) -> Result<(Vec<u8>, Invocation), GenerateError> {
        let (family, range) = chunk_parts(self.index).expect("a chunk of the sweep");
        let tuple = range.start + call / 2;
        let form = Some(call % 2 == 1);
        let (module, mut calls) = assemble(family, &family.tuples[tuple..=tuple], form)?;
        Ok((module, calls.remove(0)))
    }
}

/// How many chunks the sweep has.
pub fn chunk_count() -> usize {
    layout().chunks.len()
}

/// How many tuples the sweep has (each runs twice).
pub fn tuple_count() -> usize {
    layout().chunks.iter().map(|(_, range)| range.len()).sum()
}

/// Chunk `index` of the sweep (below [`chunk_count`]).
pub fn chunk(index: usize) -> Result<Chunk, GenerateError> {
    let (family, range) = chunk_parts(index)
        .ok_or_else(|| GenerateError::Internal(format!("the sweep has no chunk {index}")))?;
    let (module, calls) = assemble(family, &family.tuples[range.clone()], None)?;
    let probes = family.tuples[range.clone()]
        .iter()
        .flat_map(|tuple| {
            [false, true].map(|constants| Probe {
                name: family.name,
                instruction: tuple.instruction.clone(),
                operands: tuple.operands.clone(),
                constants,
            })
        })
        .collect();
    Ok(Chunk {
        index,
        module,
        calls,
        probes,
    })
}

/// The features a chunk's module needs.
pub fn chunk_features(index: usize) -> Features {
    chunk_parts(index).map_or(Features::NONE, |(family, _)| family.features)
}

/// Instructions that take operands and give at most one result, over a module-level prelude
/// (memories, tables, data, elements) shared by a family's tuples.
struct Family {
    /// The instruction swept.
    name: &'static str,
    prelude: String,
    params: Vec<ValType>,
    result: Option<ValType>,
    /// Made canonical before it is returned: lanes compare bit for bit, and NaN bits of
    /// float arithmetic are nondeterministic.
    canon: Option<Canon>,
    features: Features,
    tuples: Vec<Tuple>,
}

struct Tuple {
    instruction: String,
    operands: Vec<Value>,
}

/// Every family, and the chunks cut from them: `(family index, range of its tuples)`.
struct Layout {
    families: Vec<Family>,
    chunks: Vec<(usize, std::ops::Range<usize>)>,
}

fn layout() -> &'static Layout {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    LAYOUT.get_or_init(|| {
        let families = families();
        let chunks = families
            .iter()
            .enumerate()
            .flat_map(|(index, family)| {
                let count = family.tuples.len();
                (0..count)
                    .step_by(TUPLES_PER_CHUNK)
                    .map(move |start| (index, start..(start + TUPLES_PER_CHUNK).min(count)))
            })
            .collect();
        Layout { families, chunks }
    })
}

/// Chunk `index`'s family and tuples.
fn chunk_parts(index: usize) -> Option<(&'static Family, std::ops::Range<usize>)> {
    let layout = layout();
    let (family, range) = layout.chunks.get(index)?;
    Some((&layout.families[*family], range.clone()))
}

/// The module for `tuples` of `family`, and its calls: per tuple, the parameter form then the
/// constant form; or only the form `constants` says.
fn assemble(
    family: &Family,
    tuples: &[Tuple],
    constants: Option<bool>,
) -> Result<(Vec<u8>, Vec<Invocation>), GenerateError> {
    let mut wat = format!("(module\n{}", family.prelude);
    let result = family
        .result
        .map(|t| format!(" (result {t})"))
        .unwrap_or_default();
    let canon = family.canon.map(canonicalization).unwrap_or_default();
    let canon_local = family
        .canon
        .map(|c| format!(" (local {})", canon_local(c)))
        .unwrap_or_default();
    let params: String = family.params.iter().map(|t| format!(" {t}")).collect();
    let mut forms: Vec<&str> = Vec::new();
    let mut calls = Vec::with_capacity(tuples.len() * 2);
    for (index, tuple) in tuples.iter().enumerate() {
        if constants == Some(true) {
            append_constant_form(&mut wat, family, tuple, index, &mut calls);
            continue;
        }
        let form = match forms.iter().position(|f| *f == tuple.instruction) {
            Some(form) => form,
            None => {
                let form = forms.len();
                let gets: String = (0..family.params.len())
                    .map(|i| format!("    local.get {i}\n"))
                    .collect();
                // The canonicalization's scratch local comes after the parameters.
                let scratch = family.params.len();
                writeln!(
                    wat,
                    "  (func (export \"p{form}\") (param{params}){result}{canon_local}\n{gets}    {}\n{})",
                    tuple.instruction,
                    canon.replace("$t", &scratch.to_string())
                )
                .unwrap();
                forms.push(&tuple.instruction);
                form
            }
        };
        calls.push(Invocation {
            export: format!("p{form}"),
            args: tuple.operands.clone(),
        });
        if constants.is_none() {
            append_constant_form(&mut wat, family, tuple, index, &mut calls);
        }
    }
    wat.push_str(")\n");
    let module = wat::parse_str(&wat).map_err(|e| {
        GenerateError::Internal(format!("a sweep module does not assemble: {e}\n{wat}"))
    })?;
    Ok((module, calls))
}

/// Appends tuple `index`'s constant form to `wat` (function `c<index>`) and its call.
fn append_constant_form(
    wat: &mut String,
    family: &Family,
    tuple: &Tuple,
    index: usize,
    calls: &mut Vec<Invocation>,
) {
    let result = family
        .result
        .map(|t| format!(" (result {t})"))
        .unwrap_or_default();
    let canon = family.canon.map(canonicalization).unwrap_or_default();
    let constants: String = tuple
        .operands
        .iter()
        .map(|v| format!("    {}\n", wat_const(*v)))
        .collect();
    // The parameters become locals, so that an instruction text using them (and the
    // canonicalization's scratch local after them) means the same in both forms.
    let mut locals: Vec<String> = family.params.iter().map(ValType::to_string).collect();
    locals.extend(family.canon.map(|c| canon_local(c).to_string()));
    let locals = match locals.is_empty() {
        true => String::new(),
        false => format!(" (local {})", locals.join(" ")),
    };
    writeln!(
        wat,
        "  (func (export \"c{index}\"){result}{locals}\n{constants}    {}\n{})",
        tuple.instruction,
        canon.replace("$t", &family.params.len().to_string())
    )
    .unwrap();
    calls.push(Invocation {
        export: format!("c{index}"),
        args: Vec::new(),
    });
}

/// The type of the canonicalization's scratch local.
fn canon_local(canon: Canon) -> ValType {
    match canon {
        Canon::F32x4 | Canon::F64x2 => ValType::V128,
        Canon::F32 => ValType::F32,
        Canon::F64 => ValType::F64,
    }
}

/// Replaces any NaN on the stack top (or in any lane) by the canonical NaN, through local `$t`.
fn canonicalization(canon: Canon) -> String {
    let (nan, ne) = match canon {
        Canon::F32 => ("f32.const nan", "f32.ne\n    select"),
        Canon::F64 => ("f64.const nan", "f64.ne\n    select"),
        Canon::F32x4 => (
            "v128.const f32x4 nan nan nan nan",
            "f32x4.ne\n    v128.bitselect",
        ),
        Canon::F64x2 => ("v128.const f64x2 nan nan", "f64x2.ne\n    v128.bitselect"),
    };
    format!(
        "    local.set $t\n    {nan}\n    local.get $t\n    local.get $t\n    local.get $t\n    {ne}"
    )
}

/// Corner values of a scalar type.
fn corners(ty: ValType) -> Vec<Value> {
    match ty {
        ValType::I32 => I32_EDGES.iter().map(|v| Value::I32(*v)).collect(),
        ValType::I64 => I64_EDGES.iter().map(|v| Value::I64(*v)).collect(),
        ValType::F32 => F32_EDGES.iter().map(|v| Value::F32(*v)).collect(),
        ValType::F64 => F64_EDGES.iter().map(|v| Value::F64(*v)).collect(),
        ValType::V128 | ValType::Ref { .. } => Vec::new(),
    }
}

/// Every combination of corners for two operands; for three, a reduced product that holds
/// every pair: the sets cycled to the largest one's length `n`, then `(a_i, b_j, c_(i+j mod n))`.
fn products(sets: &[Vec<Value>]) -> Vec<Vec<Value>> {
    match sets {
        [] => vec![Vec::new()],
        [a] => a.iter().map(|x| vec![*x]).collect(),
        [a, b] => a
            .iter()
            .flat_map(|x| b.iter().map(move |y| vec![*x, *y]))
            .collect(),
        [a, b, c] => {
            let n = a.len().max(b.len()).max(c.len());
            let mut out = Vec::with_capacity(n * n);
            for i in 0..n {
                for j in 0..n {
                    out.push(vec![
                        a[i % a.len()],
                        b[j % b.len()],
                        c[(i + j) % n % c.len()],
                    ]);
                }
            }
            out
        }
        _ => unreachable!("no instruction takes more than three operands"),
    }
}

/// A lane type of a vector.
#[derive(Clone, Copy)]
enum Lane {
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl Lane {
    fn count(self) -> usize {
        match self {
            Lane::I8 => 16,
            Lane::I16 => 8,
            Lane::I32 | Lane::F32 => 4,
            Lane::I64 | Lane::F64 => 2,
        }
    }

    /// Corner values of a lane, as raw bits.
    fn corners(self) -> Vec<u64> {
        match self {
            Lane::I8 => [
                0u8, 1, 0xff, 2, 0x7f, 0x80, 0x7e, 0x81, 0x55, 0xaa, 0x0f, 0x10,
            ]
            .iter()
            .map(|v| u64::from(*v))
            .collect(),
            Lane::I16 => [
                0u16, 1, 0xffff, 2, 0x7fff, 0x8000, 0x7ffe, 0x8001, 0x5555, 0xaaaa, 0x00ff, 0xff00,
                0x0100,
            ]
            .iter()
            .map(|v| u64::from(*v))
            .collect(),
            Lane::I32 => I32_EDGES.iter().map(|v| u64::from(*v as u32)).collect(),
            Lane::I64 => I64_EDGES.iter().map(|v| *v as u64).collect(),
            Lane::F32 => F32_EDGES.iter().map(|v| u64::from(*v)).collect(),
            Lane::F64 => F64_EDGES.to_vec(),
        }
    }

    fn bits(self) -> u32 {
        128 / self.count() as u32
    }

    /// A vector of these lanes.
    fn vector(self, lanes: &[u64]) -> Value {
        let bits = self.bits();
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1 << bits) - 1
        };
        let mut v = 0u128;
        for (i, lane) in lanes.iter().enumerate() {
            v |= u128::from(lane & mask) << (i as u32 * bits);
        }
        Value::V128(v)
    }
}

/// The lane type of a SIMD instruction's vector operands: the shape its name ends in, for
/// those converting from another shape (`i16x8.extend_low_i8x16_s`), else the one it starts with.
fn operand_lanes(name: &str) -> Lane {
    let shapes = [
        ("i8x16", Lane::I8),
        ("i16x8", Lane::I16),
        ("i32x4", Lane::I32),
        ("i64x2", Lane::I64),
        ("f32x4", Lane::F32),
        ("f64x2", Lane::F64),
    ];
    let (_, rest) = name.split_once('.').unwrap_or(("", name));
    if let Some((_, lane)) = shapes.iter().find(|(shape, _)| rest.contains(shape)) {
        return *lane;
    }
    shapes
        .iter()
        .find(|(shape, _)| name.starts_with(shape))
        .map_or(Lane::I8, |(_, lane)| *lane)
}

/// Operand tuples for an instruction over vectors (and perhaps scalars): the vectors' lanes,
/// across the tuples, hold every pair of lane corners (every corner for one vector operand);
/// scalar operands go through their corners alongside.
fn vector_tuples(op: &Op) -> Vec<Vec<Value>> {
    let lane = operand_lanes(op.name);
    let corners = lane.corners();
    let vectors = op.params.iter().filter(|t| **t == ValType::V128).count();
    let per_vector = lane.count();
    // Lane values for each vector operand, tuple by tuple.
    let lane_rows: Vec<Vec<Vec<u64>>> = match vectors {
        0 => vec![Vec::new()],
        1 => corners
            .chunks(per_vector)
            .map(|chunk| vec![cycle(chunk, per_vector)])
            .collect(),
        _ => {
            let n = corners.len();
            let mut pairs: Vec<(u64, u64, u64)> = Vec::with_capacity(n * n);
            for i in 0..n {
                for j in 0..n {
                    pairs.push((corners[i], corners[j], corners[(i + j) % n]));
                }
            }
            pairs
                .chunks(per_vector)
                .map(|chunk| {
                    let a: Vec<u64> = chunk.iter().map(|p| p.0).collect();
                    let b: Vec<u64> = chunk.iter().map(|p| p.1).collect();
                    let c: Vec<u64> = chunk.iter().map(|p| p.2).collect();
                    [a, b, c][..vectors]
                        .iter()
                        .map(|lanes| cycle(lanes, per_vector))
                        .collect()
                })
                .collect()
        }
    };
    let scalar_sets: Vec<Vec<Value>> = op
        .params
        .iter()
        .filter(|t| **t != ValType::V128)
        .map(|t| corners_for_scalar_operand(op, *t))
        .collect();
    let scalars = products(&scalar_sets);
    let mut tuples = Vec::new();
    for (row, vectors) in lane_rows.iter().enumerate() {
        // Scalars cycle along the vector rows, or the rows repeat along the scalars.
        let count = scalars.len().max(1);
        let repeat = if lane_rows.len() >= count { 1 } else { count };
        for k in 0..repeat {
            let scalar = &scalars[(row + k * lane_rows.len()) % count];
            let (mut v, mut s) = (vectors.iter(), scalar.iter());
            let operands = op
                .params
                .iter()
                .map(|t| match t {
                    ValType::V128 => lane.vector(v.next().expect("vector operand")),
                    _ => *s.next().expect("scalar operand"),
                })
                .collect();
            tuples.push(operands);
        }
    }
    tuples
}

/// The scalar operands of a SIMD instruction: shift counts and splatted or replaced lane
/// values have corners of their own.
fn corners_for_scalar_operand(op: &Op, ty: ValType) -> Vec<Value> {
    if op.name.contains(".sh") {
        return [0, 1, 7, 8, 15, 16, 31, 32, 63, 64, -1, i32::MIN]
            .iter()
            .map(|v| Value::I32(*v))
            .collect();
    }
    corners(ty)
}

/// `lanes` repeated to fill `count` lanes.
fn cycle(lanes: &[u64], count: usize) -> Vec<u64> {
    lanes.iter().copied().cycle().take(count).collect()
}

/// The features an instruction of the table needs, beyond the MVP.
fn op_features(op: &Op) -> Features {
    let mut features = Features::NONE;
    if let Some(feature) = op.feature {
        features.set(feature, true);
        if feature == "relaxed-simd" {
            features.simd = true;
        }
    }
    if op.params.contains(&ValType::V128) || op.result == Some(ValType::V128) {
        features.simd = true;
    }
    features
}

fn with(mut features: Features, names: &[&str]) -> Features {
    for name in names {
        features.set(name, true);
    }
    features
}

/// Every family, in sweep order: the instruction table's pure instructions first, then
/// memory accesses, bulk memory, and tables.
fn families() -> Vec<Family> {
    let mut families = Vec::new();
    for op in ops() {
        if op.mem_align.is_some() || op.name.starts_with("memory.") {
            continue;
        }
        families.push(pure_family(op));
    }
    for op in ops().iter().filter(|op| op.mem_align.is_some()) {
        for pages in [0u32, 1, 3] {
            families.push(memory_family(op, pages));
        }
    }
    families.extend(memory_size_families());
    families.extend(bulk_memory_families());
    families.extend(table_families());
    families.retain(|f| !f.tuples.is_empty());
    families
}

/// An instruction of the table without memory: its operands' corners; lane immediates and
/// shuffles take a few values each.
fn pure_family(op: &Op) -> Family {
    let vector = op.params.contains(&ValType::V128) || op.result == Some(ValType::V128);
    let operand_tuples = if vector {
        vector_tuples(op)
    } else {
        let sets: Vec<Vec<Value>> = op.params.iter().map(|t| corners(*t)).collect();
        products(&sets)
    };
    let immediates: Vec<String> = if let Some(lanes) = op.lanes {
        [0, lanes / 2, lanes - 1]
            .iter()
            .map(|lane| format!(" {lane}"))
            .collect()
    } else if op.shuffle {
        SHUFFLES
            .iter()
            .map(|lanes| lanes.iter().map(|l| format!(" {l}")).collect())
            .collect()
    } else {
        vec![String::new()]
    };
    let mut tuples = Vec::new();
    for (i, operands) in operand_tuples.into_iter().enumerate() {
        // Immediates take turns along the tuples.
        let immediate = &immediates[i % immediates.len()];
        tuples.push(Tuple {
            instruction: format!("{}{immediate}", op.name),
            operands,
        });
    }
    // Vector results compare bit for bit: NaN lanes of float arithmetic are made canonical.
    let canon = op
        .canon
        .filter(|c| matches!(c, Canon::F32x4 | Canon::F64x2));
    Family {
        name: op.name,
        prelude: String::new(),
        params: op.params.clone(),
        result: op.result,
        canon,
        features: op_features(op),
        tuples,
    }
}

/// Lane selections for `i8x16.shuffle`: identity, reversal, all from the second vector,
/// one lane everywhere, interleaving.
const SHUFFLES: &[[u8; 16]] = &[
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    [
        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    ],
    [31, 31, 31, 31, 31, 31, 31, 31, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23],
];

/// A memory of `pages` pages (at most one more), with patterned bytes at its start and at its
/// end so that loads see more than zeros.
fn memory_prelude(pages: u32) -> String {
    let mut prelude = format!("  (memory (export \"memory\") {pages} {})\n", pages + 1);
    if pages > 0 {
        for offset in [0, pages * 65536 - 32] {
            let data: String = (0..32u32)
                .map(|i| format!("\\{:02x}", (i.wrapping_mul(37) + offset) as u8 ^ 0x5a))
                .collect();
            writeln!(prelude, "  (data (i32.const {offset}) \"{data}\")").unwrap();
        }
    }
    prelude
}

/// A load or store of the table in a memory of `pages` pages: every address from a few bytes
/// before the end (as the offset moves it) to past it, and the ends of the address space, at
/// every alignment and several offsets. A store stores one patterned value.
fn memory_family(op: &Op, pages: u32) -> Family {
    let natural = op.mem_align.expect("a memory access");
    let size = u64::from(pages) * 65536;
    let mut tuples = Vec::new();
    let lane_immediates: Vec<String> = match op.lanes {
        Some(lanes) => vec![" 0".into(), format!(" {}", lanes - 1)],
        None => vec![String::new()],
    };
    for offset in [0u64, 1, u64::from(natural), 65536, 0xffff_ffff] {
        for align in (0..=natural.trailing_zeros()).map(|a| 1u32 << a) {
            let end = size.saturating_sub(offset) as i64;
            let mut addresses: Vec<i64> = (end - i64::from(natural) - 2..=end + 1).collect();
            addresses.extend([0, 1, 0x7fff_ffff, 0xffff_ffff]);
            addresses.retain(|a| (0..=0xffff_ffff).contains(a));
            addresses.sort_unstable();
            addresses.dedup();
            for (i, address) in addresses.into_iter().enumerate() {
                let lane = &lane_immediates[i % lane_immediates.len()];
                let mut operands = vec![Value::I32(address as u32 as i32)];
                operands.extend(op.params[1..].iter().map(|t| stored_value(*t)));
                tuples.push(Tuple {
                    instruction: format!("{} offset={offset} align={align}{lane}", op.name),
                    operands,
                });
            }
        }
    }
    Family {
        name: op.name,
        prelude: memory_prelude(pages),
        params: op.params.clone(),
        result: op.result,
        canon: None,
        features: op_features(op),
        tuples,
    }
}

/// What a store stores: every byte different, so a misplaced or short store shows.
fn stored_value(ty: ValType) -> Value {
    const BYTES: u128 = 0x8f8e_8d8c_8b8a_8988_0706_0504_0302_0100;
    match ty {
        ValType::I32 => Value::I32(0x8382_8180u32 as i32),
        ValType::I64 => Value::I64(0x8786_8584_8382_8180u64 as i64),
        ValType::F32 => Value::F32(0x4382_8180),
        ValType::F64 => Value::F64(0x4786_8584_8382_8180),
        ValType::V128 => Value::V128(BYTES),
        ValType::Ref { .. } => unreachable!("no reference is stored to memory"),
    }
}

/// Addresses and lengths around a memory of `size` bytes (or a table of `size` elements) for
/// bulk operations: the ends, their neighbours, the middle, and the largest `u32`.
fn bulk_corners(size: u32, extra: &[u32]) -> Vec<Value> {
    let mut values = vec![
        0,
        1,
        size / 2,
        size.wrapping_sub(1),
        size,
        size + 1,
        0x7fff_ffff,
        u32::MAX,
    ];
    values.extend(extra);
    values.sort_unstable();
    values.dedup();
    values.into_iter().map(|v| Value::I32(v as i32)).collect()
}

/// `memory.size`, and `memory.grow` by deltas up to the maximum, past it and huge.
fn memory_size_families() -> Vec<Family> {
    let mut families = Vec::new();
    for pages in [0u32, 1, 3] {
        let deltas = [0, 1, 2, 65536, 0x7fff_ffff, -1];
        families.push(Family {
            name: "memory.grow",
            prelude: memory_prelude(pages),
            params: vec![ValType::I32],
            result: Some(ValType::I32),
            canon: None,
            features: Features::NONE,
            tuples: deltas
                .iter()
                .map(|d| Tuple {
                    instruction: "memory.grow".into(),
                    operands: vec![Value::I32(*d)],
                })
                .collect(),
        });
    }
    families.push(Family {
        name: "memory.size",
        prelude: memory_prelude(1),
        params: Vec::new(),
        result: Some(ValType::I32),
        canon: None,
        features: Features::NONE,
        tuples: vec![Tuple {
            instruction: "memory.size".into(),
            operands: Vec::new(),
        }],
    });
    families
}

/// `memory.fill`, `memory.copy` (overlapping either way) and `memory.init` from a passive
/// segment, over ranges at the memory's and the segment's ends; `data.drop` before an init.
fn bulk_memory_families() -> Vec<Family> {
    const SEGMENT: u32 = 20;
    let mut families = Vec::new();
    for pages in [0u32, 1] {
        let size = pages * 65536;
        let segment: String = (0..SEGMENT)
            .map(|i| format!("\\{:02x}", 0xa0 + i))
            .collect();
        let prelude = format!("{}  (data $passive \"{segment}\")\n", memory_prelude(pages));
        let features = with(Features::NONE, &["bulk-memory"]);
        let corners = bulk_corners(size, &[SEGMENT - 1, SEGMENT, SEGMENT + 1]);
        let triples = products(&[corners.clone(), corners.clone(), corners.clone()]);
        for (name, instruction) in [
            ("memory.fill", "memory.fill"),
            ("memory.copy", "memory.copy"),
            ("memory.init", "memory.init $passive"),
        ] {
            families.push(Family {
                name,
                prelude: prelude.clone(),
                params: vec![ValType::I32; 3],
                result: None,
                canon: None,
                features,
                tuples: triples
                    .iter()
                    .map(|operands| Tuple {
                        instruction: instruction.into(),
                        operands: operands.clone(),
                    })
                    .collect(),
            });
        }
        families.push(Family {
            name: "data.drop",
            prelude,
            params: vec![ValType::I32; 3],
            result: None,
            canon: None,
            features,
            tuples: [[0, 0, 0], [0, 0, 1], [size, 0, 0]]
                .iter()
                .map(|ops| Tuple {
                    instruction: "data.drop $passive\n    memory.init $passive".into(),
                    operands: ops.iter().map(|v| Value::I32(*v as i32)).collect(),
                })
                .collect(),
        });
    }
    families
}

/// Tables of 0, 1 and 5 elements (at most two more), their first elements set to functions
/// of two types; `table.get`, `table.set`, `table.size`, `table.grow`, `table.fill`,
/// `table.copy`, `table.init` and `elem.drop` at indices and ranges around the end, and
/// `call_indirect` through every kind of entry.
fn table_families() -> Vec<Family> {
    let reference = with(Features::NONE, &["reference-types", "bulk-memory"]);
    let mut families = Vec::new();
    for size in [0u32, 1, 5] {
        let initialized = size.min(3);
        let elements: String = (0..initialized).map(|i| format!(" $f{}", i % 2)).collect();
        let active = match initialized {
            0 => String::new(),
            _ => format!("  (elem (i32.const 0) func{elements})\n"),
        };
        let prelude = format!(
            "  (type $i32 (func (result i32)))\n  (type $i64 (func (result i64)))\n  \
             (table $t (export \"table\") {size} {} funcref)\n{active}  \
             (elem $passive func $f0 $f1 $f0)\n  \
             (func $f0 (type $i32) i32.const 7)\n  (func $f1 (type $i64) i64.const 9)\n",
            size + 2
        );
        let indices = bulk_corners(size, &[]);
        let simple = |name: &'static str,
                      instruction: &str,
                      params: Vec<ValType>,
                      result,
                      tuples: Vec<Vec<Value>>| {
            Family {
                name,
                prelude: prelude.clone(),
                params,
                result,
                canon: None,
                features: reference,
                tuples: tuples
                    .into_iter()
                    .map(|operands| Tuple {
                        instruction: instruction.into(),
                        operands,
                    })
                    .collect(),
            }
        };
        let each = |values: &[Value]| values.iter().map(|v| vec![*v]).collect::<Vec<_>>();
        families.push(simple(
            "table.get",
            "table.get $t\n    ref.is_null",
            vec![ValType::I32],
            Some(ValType::I32),
            each(&indices),
        ));
        families.push(simple(
            "table.set",
            "ref.func $f1\n    table.set $t",
            vec![ValType::I32],
            None,
            each(&indices),
        ));
        families.push(simple(
            "table.set",
            "ref.null func\n    table.set $t",
            vec![ValType::I32],
            None,
            each(&indices),
        ));
        families.push(simple(
            "table.size",
            "table.size $t",
            Vec::new(),
            Some(ValType::I32),
            vec![Vec::new()],
        ));
        families.push(simple(
            "table.grow",
            "local.set 0\n    ref.func $f0\n    local.get 0\n    table.grow $t",
            vec![ValType::I32],
            Some(ValType::I32),
            each(&[0, 1, 2, 3, -1].map(Value::I32)),
        ));
        let pairs = products(&[indices.clone(), indices.clone()]);
        families.push(simple(
            "table.fill",
            "local.set 1\n    ref.func $f1\n    local.get 1\n    table.fill $t",
            vec![ValType::I32, ValType::I32],
            None,
            pairs,
        ));
        let triples = products(&[indices.clone(), indices.clone(), indices.clone()]);
        families.push(simple(
            "table.copy",
            "table.copy $t $t",
            vec![ValType::I32; 3],
            None,
            triples.clone(),
        ));
        families.push(simple(
            "table.init",
            "table.init $t $passive",
            vec![ValType::I32; 3],
            None,
            triples,
        ));
        families.push(simple(
            "elem.drop",
            "elem.drop $passive\n    table.init $t $passive",
            vec![ValType::I32; 3],
            None,
            vec![
                [0, 0, 0].map(Value::I32).to_vec(),
                [0, 0, 1].map(Value::I32).to_vec(),
            ],
        ));
        let mut mvp = simple(
            "call_indirect",
            "call_indirect $t (type $i32)",
            vec![ValType::I32],
            Some(ValType::I32),
            each(&indices),
        );
        mvp.features = Features::NONE;
        // `call_indirect` is in the MVP: its prelude leaves out the passive segment (bulk
        // memory) so that engines without the later proposals take part.
        mvp.prelude = format!(
            "  (type $i32 (func (result i32)))\n  (type $i64 (func (result i64)))\n  \
             (table $t {size} {} funcref)\n{active}  \
             (func $f0 (type $i32) i32.const 7)\n  (func $f1 (type $i64) i64.const 9)\n",
            size + 2
        );
        families.push(mvp);
    }
    families
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_assembles_validates_and_says_what_each_call_tests() {
        assert!(chunk_count() > 100, "{} chunks", chunk_count());
        eprintln!("{} chunks, {} tuples", chunk_count(), tuple_count());
        for index in 0..chunk_count() {
            let chunk = chunk(index).unwrap();
            chunk_features(index)
                .validate(&chunk.module)
                .unwrap_or_else(|e| panic!("chunk {index}: {e}"));
            assert_eq!(chunk.calls.len(), chunk.probes.len());
            assert!(chunk.calls.len() <= 2 * TUPLES_PER_CHUNK);
            for (call, probe) in chunk.calls.iter().zip(&chunk.probes) {
                assert_eq!(
                    call.args.is_empty(),
                    probe.constants || probe.operands.is_empty()
                );
            }
        }
    }

    #[test]
    fn the_sweep_is_the_same_every_time() {
        let a = chunk(7).unwrap();
        let b = chunk(7).unwrap();
        assert_eq!(a.module, b.module);
        assert_eq!(a.calls, b.calls);
        let (module, call) = a.single(3).unwrap();
        assert!(module.len() < a.module.len());
        assert_eq!(call.export, "c0");
    }

    #[test]
    fn every_table_instruction_is_swept_and_pairs_of_corners_are_covered() {
        let mut swept: std::collections::BTreeSet<String> = Default::default();
        for index in 0..chunk_count() {
            for probe in chunk(index).unwrap().probes {
                swept.extend(probe.instruction.split_whitespace().map(str::to_string));
            }
        }
        for op in ops() {
            assert!(swept.contains(op.name), "{} is not swept", op.name);
        }
        for extra in [
            "memory.fill",
            "memory.copy",
            "memory.init",
            "table.get",
            "table.grow",
        ] {
            assert!(swept.contains(extra), "{extra}");
        }
        // i32.add: every pair of i32 corners, in both forms.
        let adds: Vec<Probe> = (0..chunk_count())
            .flat_map(|i| chunk(i).unwrap().probes)
            .filter(|p| p.instruction == "i32.add")
            .collect();
        assert_eq!(adds.len(), 2 * I32_EDGES.len() * I32_EDGES.len());
        // A three-operand instruction covers every pair of its first and third operands.
        let selects: Vec<Probe> = (0..chunk_count())
            .flat_map(|i| chunk(i).unwrap().probes)
            .filter(|p| p.instruction == "select" && p.operands[0].ty() == ValType::I64)
            .collect();
        for a in I64_EDGES {
            for c in I32_EDGES {
                assert!(selects.iter().any(|p| {
                    p.operands[0] == Value::I64(*a) && p.operands[2] == Value::I32(*c)
                }));
            }
        }
    }
}
