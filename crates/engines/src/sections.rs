//! Module sections as raw bytes, for rewrites that keep every original byte of a section and
//! add entries to it (or leave whole sections out).

use wasm_encoder::Encode;

/// Where a section goes among the others, by id (custom sections aside).
fn rank(id: u8) -> u8 {
    match id {
        13 => 6, // tags come between memories and globals
        6..=9 => id + 1,
        12 => 11, // data count comes before code
        10 => 12,
        11 => 13,
        other => other,
    }
}

/// Entries to add to the vector section `id`: `count` of them, encoded in `entries`, before
/// or after the section's own.
pub struct Addition {
    pub id: u8,
    pub count: u32,
    pub entries: Vec<u8>,
    pub first: bool,
}

impl Addition {
    /// The entries of an encoded vector section (without its size and count), to add.
    pub fn of(id: u8, section: &(impl Encode + ?Sized), count: u32, first: bool) -> Addition {
        let mut bytes = Vec::new();
        section.encode(&mut bytes);
        let mut reader = wasmparser::BinaryReader::new(&bytes, 0);
        reader.read_var_u32().expect("size");
        reader.read_var_u32().expect("count");
        Addition {
            id,
            count,
            entries: bytes[reader.original_position() as usize..].to_vec(),
            first,
        }
    }
}

/// `module` with `additions` made to its sections (a section it lacks is made, in its place
/// among the others and before the trailing custom sections, such as `name`, which some
/// engines insist come last), and without the sections of ids in `dropped`.
pub fn splice(module: &[u8], additions: Vec<Addition>, dropped: &[u8]) -> Result<Vec<u8>, String> {
    let mut pending: Vec<Addition> = additions.into_iter().filter(|a| a.count > 0).collect();
    let mut sections = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let Some((id, range)) = payload.map_err(|e| e.to_string())?.as_section() {
            sections.push((id, range.start as usize..range.end as usize));
        }
    }
    let last_known = sections.iter().rposition(|(id, _)| *id != 0);
    let mut out = module.get(..8).ok_or("not a module")?.to_vec();
    let push = |out: &mut Vec<u8>, id: u8, count: u32, parts: [&[u8]; 2]| {
        let mut content = Vec::new();
        count.encode(&mut content);
        content.extend_from_slice(parts[0]);
        content.extend_from_slice(parts[1]);
        out.push(id);
        (content.len() as u32).encode(out);
        out.extend_from_slice(&content);
    };
    let flush = |out: &mut Vec<u8>, pending: &mut Vec<Addition>, before: Option<u8>| {
        while let Some(at) = pending
            .iter()
            .position(|a| before.is_none_or(|id| rank(a.id) < rank(id)))
        {
            let a = pending.remove(at);
            push(out, a.id, a.count, [&a.entries, &[]]);
        }
    };
    for (index, (id, range)) in sections.into_iter().enumerate() {
        match (id, last_known) {
            (0, Some(last)) if index > last => flush(&mut out, &mut pending, None),
            (0, _) => {}
            _ => flush(&mut out, &mut pending, Some(id)),
        }
        if dropped.contains(&id) {
            continue;
        }
        let section = &module[range];
        match pending.iter().position(|a| a.id == id) {
            Some(at) => {
                let a = pending.remove(at);
                let mut reader = wasmparser::BinaryReader::new(section, 0);
                let old = reader.read_var_u32().map_err(|e| e.to_string())?;
                let own = &section[reader.original_position() as usize..];
                let parts = match a.first {
                    true => [&a.entries[..], own],
                    false => [own, &a.entries[..]],
                };
                push(&mut out, id, old + a.count, parts);
            }
            None => {
                out.push(id);
                (section.len() as u32).encode(&mut out);
                out.extend_from_slice(section);
            }
        }
    }
    flush(&mut out, &mut pending, None);
    Ok(out)
}

/// The module with its start function exported (under a name no export has) instead of
/// started, and that name; the module as it is if it has no start function. For embeddings
/// whose host functions need the instance before the start function may run.
pub fn start_as_export(module: &[u8]) -> (Vec<u8>, Option<String>) {
    let mut start = None;
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload {
            Ok(wasmparser::Payload::StartSection { func, .. }) => start = Some(func),
            Ok(wasmparser::Payload::ExportSection(reader)) => {
                names.extend(reader.into_iter().filter_map(|e| Some(e.ok()?.name)));
            }
            Ok(_) => {}
            Err(_) => return (module.to_vec(), None),
        }
    }
    let Some(function) = start else {
        return (module.to_vec(), None);
    };
    let mut name = "wasmdiff-start".to_string();
    while names.contains(&name.as_str()) {
        name.push('_');
    }
    let mut export = wasm_encoder::ExportSection::new();
    export.export(&name, wasm_encoder::ExportKind::Func, function);
    match splice(module, vec![Addition::of(7, &export, 1, false)], &[8]) {
        Ok(spliced) => (spliced, Some(name)),
        Err(_) => (module.to_vec(), None),
    }
}
