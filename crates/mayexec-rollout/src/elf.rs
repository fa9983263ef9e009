//! A small ELF reader: just what the inventory needs from a program file —
//! its notes, its `DT_NEEDED` libraries and its program interpreter, read
//! through the program headers, which even a fully stripped file keeps
//! (and which the dynamic loader reads: mayexec-python takes the search
//! path of an extension module from here too); and
//! where its dynamic string table and its read-only data lie, for the
//! inventory to read (capped) when it recognises a program by content.
//!
//! Every offset and size comes from the file and is bounds-checked; a
//! malformed file is an error, never a panic or a guess.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;
const DT_FLAGS_1: u64 = 0x6fff_fffb;
const DF_1_PIE: u64 = 0x0800_0000;
const ET_EXEC: u64 = 2;
const PF_R: u32 = 4;
const PF_W: u32 = 2;
const PF_X: u32 = 1;
const SHT_NOBITS: u64 = 8;
/// No segment read here is larger in a sane program.
const MAX_SEGMENT: u64 = 1 << 20;

/// One ELF note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The note's owner (`GNU`, `mayexec` …), without its NUL.
    pub owner: Vec<u8>,
    /// Its type, meaningful per owner.
    pub kind: u32,
    /// Its description bytes.
    pub desc: Vec<u8>,
}

/// What the inventory reads from an ELF file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfInfo {
    /// Every note of every `PT_NOTE` segment.
    pub notes: Vec<Note>,
    /// The `DT_NEEDED` entries (`libc.so.6` …).
    pub needed: Vec<String>,
    /// `DT_RUNPATH`: where the loader looks for those, after
    /// `LD_LIBRARY_PATH` (`$ORIGIN/../lib:/opt/x/lib`).
    pub runpath: Option<String>,
    /// `DT_RPATH`: the same, before `LD_LIBRARY_PATH`; ignored by the
    /// loader when there is a `DT_RUNPATH`.
    pub rpath: Option<String>,
    /// `PT_INTERP`: the program interpreter (`/lib64/ld-linux-x86-64.so.2`).
    pub interpreter: Option<String>,
    /// A program the kernel can run, not a shared library: `ET_EXEC`, or
    /// it names a program interpreter, or it is flagged a PIE
    /// (`DF_1_PIE`: static-pie programs).
    pub program: bool,
    /// Where the dynamic string table lies (`DT_STRTAB`, `DT_STRSZ`): the
    /// names of the symbols it imports and exports.
    pub dynstr: Option<Extent>,
    /// Where its read-only data lies: the sections named `.rodata…`, or,
    /// in a file without section headers, its read-only `PT_LOAD` segments.
    pub rodata: Vec<Extent>,
}

/// A stretch of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Where it starts.
    pub offset: u64,
    /// How long it is.
    pub len: u64,
}

/// Reads at most `cap` bytes of `extent`.
pub fn read_extent(file: &File, extent: Extent, cap: u64) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; extent.len.min(cap) as usize];
    file.read_exact_at(&mut buf, extent.offset)?;
    Ok(buf)
}

#[derive(Clone, Copy)]
struct Layout {
    wide: bool,
    big: bool,
}

impl Layout {
    fn u16(self, b: &[u8], at: usize) -> io::Result<u64> {
        let s: [u8; 2] = field(b, at)?;
        Ok(u64::from(if self.big {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        }))
    }
    fn u32(self, b: &[u8], at: usize) -> io::Result<u64> {
        let s: [u8; 4] = field(b, at)?;
        Ok(u64::from(if self.big {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        }))
    }
    fn u64(self, b: &[u8], at: usize) -> io::Result<u64> {
        let s: [u8; 8] = field(b, at)?;
        Ok(if self.big {
            u64::from_be_bytes(s)
        } else {
            u64::from_le_bytes(s)
        })
    }
    /// An address-sized field: 8 bytes in ELF64, 4 in ELF32.
    fn word(self, b: &[u8], at64: usize, at32: usize) -> io::Result<u64> {
        if self.wide {
            self.u64(b, at64)
        } else {
            self.u32(b, at32)
        }
    }
}

fn field<const N: usize>(b: &[u8], at: usize) -> io::Result<[u8; N]> {
    b.get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| malformed("a field lies past its table"))
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed ELF file: {what}"),
    )
}

fn read_at(file: &File, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    if len > MAX_SEGMENT {
        return Err(malformed("a segment is implausibly large"));
    }
    let mut buf = vec![0; len as usize];
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

struct Segment {
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

/// Is this an ELF file? Reads its first four bytes.
pub fn is_elf(file: &File) -> io::Result<bool> {
    let mut magic = [0; 4];
    match file.read_exact_at(&mut magic, 0) {
        Ok(()) => Ok(&magic == b"\x7fELF"),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads the notes, `DT_NEEDED` entries and program interpreter of an ELF
/// file (32 or 64-bit, either byte order). `Ok(None)`: not an ELF file.
pub fn read(file: &File) -> io::Result<Option<ElfInfo>> {
    if !is_elf(file)? {
        return Ok(None);
    }
    let header = read_at(file, 0, 64).or_else(|_| read_at(file, 0, 52))?;
    let layout = Layout {
        wide: match header.get(4) {
            Some(1) => false,
            Some(2) => true,
            _ => return Err(malformed("unknown ELF class")),
        },
        big: match header.get(5) {
            Some(1) => false,
            Some(2) => true,
            _ => return Err(malformed("unknown byte order")),
        },
    };
    let phoff = layout.word(&header, 0x20, 0x1c)?;
    let (phentsize, phnum) = if layout.wide {
        (layout.u16(&header, 0x36)?, layout.u16(&header, 0x38)?)
    } else {
        (layout.u16(&header, 0x2a)?, layout.u16(&header, 0x2c)?)
    };
    let min_entsize = if layout.wide { 56 } else { 32 };
    let mut info = ElfInfo {
        program: layout.u16(&header, 0x10)? == ET_EXEC,
        ..ElfInfo::default()
    };
    if phnum == 0 {
        return Ok(Some(info));
    }
    if phentsize < min_entsize {
        return Err(malformed("program header entries are too small"));
    }
    let table = read_at(file, phoff, phentsize * phnum)?;
    let mut segments = Vec::new();
    for i in 0..phnum as usize {
        let e = &table[i * phentsize as usize..];
        segments.push(Segment {
            kind: layout.u32(e, 0)? as u32,
            flags: layout.u32(e, if layout.wide { 4 } else { 24 })? as u32,
            offset: layout.word(e, 8, 4)?,
            vaddr: layout.word(e, 16, 8)?,
            filesz: layout.word(e, 32, 16)?,
        });
    }
    for s in &segments {
        match s.kind {
            PT_NOTE => parse_notes(layout, &read_at(file, s.offset, s.filesz)?, &mut info.notes)?,
            PT_INTERP => {
                let raw = read_at(file, s.offset, s.filesz)?;
                let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                info.interpreter = Some(String::from_utf8_lossy(&raw[..end]).into_owned());
            }
            _ => {}
        }
    }
    if let Some(dynamic) = segments.iter().find(|s| s.kind == PT_DYNAMIC) {
        let table = dynamic_table(file, layout, &segments, dynamic)?;
        info.program |= table.flags_1 & DF_1_PIE != 0;
        info.dynstr = table.strtab.map(|offset| Extent {
            offset,
            len: table.strsz,
        });
        info.needed = table.needed;
        info.runpath = table.runpath;
        info.rpath = table.rpath;
    }
    info.program |= info.interpreter.is_some();
    info.rodata = match read_only_sections(file, layout, &header)? {
        Some(sections) => sections,
        None => segments
            .iter()
            .filter(|s| s.kind == PT_LOAD && s.flags & (PF_R | PF_W | PF_X) == PF_R)
            .map(|s| Extent {
                offset: s.offset,
                len: s.filesz,
            })
            .collect(),
    };
    Ok(Some(info))
}

/// The sections named `.rodata…`; `None` when the file has no section
/// headers (`sstrip` removes them: then the segments tell).
fn read_only_sections(
    file: &File,
    layout: Layout,
    header: &[u8],
) -> io::Result<Option<Vec<Extent>>> {
    let shoff = layout.word(header, 0x28, 0x20)?;
    let (shentsize, shnum, shstrndx) = if layout.wide {
        let h = |at| layout.u16(header, at);
        (h(0x3a)?, h(0x3c)?, h(0x3e)?)
    } else {
        let h = |at| layout.u16(header, at);
        (h(0x2e)?, h(0x30)?, h(0x32)?)
    };
    // Past 0xff00 sections the count moves elsewhere: use the segments.
    if shoff == 0 || shnum == 0 || shstrndx >= shnum {
        return Ok(None);
    }
    if shentsize < if layout.wide { 64 } else { 40 } {
        return Err(malformed("section header entries are too small"));
    }
    let table = read_at(file, shoff, shentsize * shnum)?;
    let section = |i: u64| -> io::Result<(u64, u64, Extent)> {
        let e = &table[(i * shentsize) as usize..];
        let (offset, len) = if layout.wide {
            (layout.u64(e, 0x18)?, layout.u64(e, 0x20)?)
        } else {
            (layout.u32(e, 0x10)?, layout.u32(e, 0x14)?)
        };
        Ok((layout.u32(e, 0)?, layout.u32(e, 4)?, Extent { offset, len }))
    };
    let (_, _, names) = section(shstrndx)?;
    let names = read_at(file, names.offset, names.len)?;
    let mut rodata = Vec::new();
    for i in 0..shnum {
        let (name, kind, extent) = section(i)?;
        let name = names
            .get(name as usize..)
            .ok_or_else(|| malformed("a section name lies past its table"))?;
        if name.starts_with(b".rodata") && kind != SHT_NOBITS {
            rodata.push(extent);
        }
    }
    Ok(Some(rodata))
}

fn parse_notes(layout: Layout, data: &[u8], notes: &mut Vec<Note>) -> io::Result<()> {
    let align4 = |n: usize| (n + 3) & !3;
    let mut at = 0;
    while at + 12 <= data.len() {
        let namesz = layout.u32(data, at)? as usize;
        let descsz = layout.u32(data, at + 4)? as usize;
        let kind = layout.u32(data, at + 8)? as u32;
        let name_at = at + 12;
        let desc_at = name_at
            .checked_add(align4(namesz))
            .ok_or_else(|| malformed("note name size"))?;
        let end = desc_at
            .checked_add(align4(descsz))
            .ok_or_else(|| malformed("note size"))?;
        let (Some(name), Some(desc)) = (
            data.get(name_at..name_at + namesz),
            data.get(desc_at..desc_at + descsz),
        ) else {
            return Err(malformed("a note lies past its segment"));
        };
        let owner = name.strip_suffix(&[0]).unwrap_or(name).to_vec();
        notes.push(Note {
            owner,
            kind,
            desc: desc.to_vec(),
        });
        at = end;
    }
    Ok(())
}

/// What the inventory reads from the dynamic section.
struct DynamicTable {
    needed: Vec<String>,
    runpath: Option<String>,
    rpath: Option<String>,
    /// `DT_STRTAB`'s file offset.
    strtab: Option<u64>,
    strsz: u64,
    flags_1: u64,
}

/// The `DT_NEEDED` names are offsets into `DT_STRTAB`, an address that the
/// `PT_LOAD` segments map back to a file offset.
fn dynamic_table(
    file: &File,
    layout: Layout,
    segments: &[Segment],
    dynamic: &Segment,
) -> io::Result<DynamicTable> {
    let data = read_at(file, dynamic.offset, dynamic.filesz)?;
    let entsize = if layout.wide { 16 } else { 8 };
    let (mut strtab, mut strsz, mut flags_1) = (None, 0, 0);
    let (mut offsets, mut runpath, mut rpath) = (Vec::new(), None, None);
    for entry in data.chunks_exact(entsize) {
        let tag = layout.word(entry, 0, 0)?;
        let value = layout.word(entry, 8, 4)?;
        match tag {
            DT_NULL => break,
            DT_NEEDED => offsets.push(value),
            DT_RUNPATH => runpath = Some(value),
            DT_RPATH => rpath = Some(value),
            DT_STRTAB => strtab = Some(value),
            DT_STRSZ => strsz = value,
            DT_FLAGS_1 => flags_1 = value,
            _ => {}
        }
    }
    let base = match strtab {
        Some(strtab) => Some(
            segments
                .iter()
                .filter(|s| s.kind == PT_LOAD)
                .find(|s| strtab >= s.vaddr && strtab - s.vaddr < s.filesz)
                .and_then(|s| (strtab - s.vaddr).checked_add(s.offset))
                .ok_or_else(|| malformed("DT_STRTAB is not in a loaded segment"))?,
        ),
        None if offsets.is_empty() && runpath.is_none() && rpath.is_none() => None,
        None => return Err(malformed("DT_NEEDED or a search path without DT_STRTAB")),
    };
    let mut table = DynamicTable {
        needed: Vec::new(),
        runpath: None,
        rpath: None,
        strtab: base,
        strsz,
        flags_1,
    };
    let Some(base) = base else {
        return Ok(table);
    };
    for offset in offsets {
        table.needed.push(dynamic_string(file, base, offset)?);
    }
    table.runpath = runpath
        .map(|offset| dynamic_string(file, base, offset))
        .transpose()?;
    table.rpath = rpath
        .map(|offset| dynamic_string(file, base, offset))
        .transpose()?;
    Ok(table)
}

/// The string at `offset` in the dynamic string table at `base` (4096
/// bytes at most).
fn dynamic_string(file: &File, base: u64, offset: u64) -> io::Result<String> {
    let mut name = Vec::new();
    let mut chunk = [0u8; 64];
    let mut at = base
        .checked_add(offset)
        .ok_or_else(|| malformed("a dynamic string offset is out of range"))?;
    'read: loop {
        let n = file.read_at(&mut chunk, at)?;
        if n == 0 {
            return Err(malformed("a dynamic string runs past the end"));
        }
        for &b in &chunk[..n] {
            if b == 0 {
                break 'read;
            }
            name.push(b);
        }
        if name.len() > 4096 {
            return Err(malformed("a dynamic string is too long"));
        }
        at += n as u64;
    }
    Ok(String::from_utf8_lossy(&name).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf_of(bytes: &[u8]) -> io::Result<Option<ElfInfo>> {
        let path = std::env::temp_dir().join(format!(
            "mayexec-elf-test-{}-{}",
            std::process::id(),
            bytes.len()
        ));
        std::fs::write(&path, bytes)?;
        let result = read(&File::open(&path)?);
        let _ = std::fs::remove_file(&path);
        result
    }

    #[test]
    fn a_real_program_has_its_loader_and_libc() {
        let exe = File::open(std::env::current_exe().unwrap()).unwrap();
        let info = read(&exe).unwrap().expect("an ELF file");
        assert!(info.interpreter.unwrap().contains("ld-linux"));
        assert!(
            info.needed.iter().any(|n| n.starts_with("libc.so")),
            "{:?}",
            info.needed
        );
        assert!(info.notes.iter().any(|n| n.owner == b"GNU"));
    }

    #[test]
    fn a_shared_library_has_its_search_path() {
        let dir = std::env::temp_dir().join(format!("mayexec-elf-search-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("lib.c");
        std::fs::write(&source, "int f(void) { return 1; }\n").unwrap();
        for (dtags, runpath) in [("--enable-new-dtags", true), ("--disable-new-dtags", false)] {
            let lib = dir.join(format!("lib{dtags}.so"));
            let status = std::process::Command::new("cc")
                .args(["-shared", "-fPIC", "-o"])
                .arg(&lib)
                .arg(&source)
                .arg(format!("-Wl,{dtags},-rpath,$ORIGIN/../x.libs:/opt/y"))
                .status()
                .expect("cc, which builds the workspace");
            assert!(status.success());
            let info = read(&File::open(&lib).unwrap()).unwrap().unwrap();
            let search = Some("$ORIGIN/../x.libs:/opt/y".to_owned());
            let none = None;
            let (want_runpath, want_rpath) = if runpath {
                (&search, &none)
            } else {
                (&none, &search)
            };
            assert_eq!(
                (&info.runpath, &info.rpath),
                (want_runpath, want_rpath),
                "{dtags}"
            );
            assert!(!info.program);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn other_files_are_not_elf_and_broken_ones_are_errors_not_panics() {
        assert_eq!(elf_of(b"#!/bin/sh\n").unwrap(), None);
        assert_eq!(elf_of(b"").unwrap(), None);
        let real = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        // Every truncation of the headers, and garbage after the magic.
        for len in (4..4096).step_by(7) {
            let _ = elf_of(&real[..len]);
        }
        let mut garbage = b"\x7fELF\x02\x01".to_vec();
        garbage.extend(std::iter::repeat(0xff).take(200));
        assert!(elf_of(&garbage).is_err());
    }
}
