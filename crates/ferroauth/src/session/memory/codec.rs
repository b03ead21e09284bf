//! The stored form of a session's data: a count of entries, then each key and value.
//!
//! A value is a tag byte and its payload: nothing for null, false and true; an unsigned
//! LEB128 number for a non-negative integer, and for a negative one its complement
//! (`!n`); the 8 bytes of an `f64`; a length and UTF-8 bytes for a string; a count and
//! the items for an array; a count and key-value pairs for an object (keys are bare
//! strings). Integers and floats are kept as the `u64`, `i64` or `f64` a `Number` holds
//! (serde_json's `arbitrary_precision` feature would keep only `f64` precision of a
//! non-integer).
//!
//! The entries of an actix-session session are JSON text already (`HashMap<String,
//! String>`): each is stored as a string and read back as one, so that no text is parsed
//! on either way ([`SessionData`] for both forms).
//!
//! Decoding checks every length against the bytes left, so a truncated or corrupted
//! buffer is an error, never a panic or a huge allocation.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Number, Value};
use tower_sessions_core::session_store::Error;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const UNSIGNED: u8 = 3;
const NEGATIVE: u8 = 4;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;

/// A session's data in one of the forms web frameworks keep it: a map of JSON values
/// (tower-sessions) or of JSON texts (actix-session). Sealed: the stored form is this
/// module's.
pub trait SessionData: Form {}

impl SessionData for HashMap<String, Value> {}
impl SessionData for HashMap<String, String> {}

/// How a form is written and read (crate-private: [`SessionData`] is sealed).
pub trait Form: Sized {
    /// The type of an entry's value.
    type Item;
    /// Appends one entry's value.
    fn put(out: &mut Vec<u8>, value: &Self::Item) -> Result<(), Error>;
    /// Reads one entry's value.
    fn read(reader: &mut Reader<'_>) -> Result<Self::Item, Error>;
    /// The entries.
    fn entries(&self) -> impl ExactSizeIterator<Item = (&String, &Self::Item)>;
    /// An empty map for `capacity` entries.
    fn with_capacity(capacity: usize) -> Self;
    /// Adds an entry.
    fn push(&mut self, key: String, value: Self::Item);
    /// The entry under `key` when it is a JSON text (what ferroauth's entries are).
    fn text(&self, key: &str) -> Option<&str>;
}

impl Form for HashMap<String, Value> {
    type Item = Value;
    fn put(out: &mut Vec<u8>, value: &Value) -> Result<(), Error> {
        put_value(out, value)
    }
    fn read(reader: &mut Reader<'_>) -> Result<Value, Error> {
        reader.value()
    }
    fn entries(&self) -> impl ExactSizeIterator<Item = (&String, &Value)> {
        self.iter()
    }
    fn with_capacity(capacity: usize) -> Self {
        HashMap::with_capacity(capacity)
    }
    fn push(&mut self, key: String, value: Value) {
        self.insert(key, value);
    }
    fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
}

/// JSON texts: each kept as a string (tag and text), so that neither way parses it.
impl Form for HashMap<String, String> {
    type Item = String;
    fn put(out: &mut Vec<u8>, text: &String) -> Result<(), Error> {
        out.push(STRING);
        put_str(out, text);
        Ok(())
    }
    fn read(reader: &mut Reader<'_>) -> Result<String, Error> {
        match reader.0.first() {
            Some(&STRING) => {
                reader.byte()?;
                reader.string()
            }
            // Not written by this form; read as the JSON text of the value.
            _ => Ok(reader.value()?.to_string()),
        }
    }
    fn entries(&self) -> impl ExactSizeIterator<Item = (&String, &String)> {
        self.iter()
    }
    fn with_capacity(capacity: usize) -> Self {
        HashMap::with_capacity(capacity)
    }
    fn push(&mut self, key: String, value: String) {
        self.insert(key, value);
    }
    fn text(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

pub(super) fn encode<D: SessionData>(data: &D) -> Result<Arc<[u8]>, Error> {
    let mut out = Vec::with_capacity(1024);
    let entries = data.entries();
    put_len(&mut out, entries.len());
    for (key, value) in entries {
        put_str(&mut out, key);
        D::put(&mut out, value)?;
    }
    // One exact-size allocation for the long-lived copy.
    Ok(Arc::from(out))
}

pub(super) fn decode<D: SessionData>(bytes: &[u8]) -> Result<D, Error> {
    let mut reader = Reader(bytes);
    let count = reader.len()?;
    let mut data = D::with_capacity(reader.capacity_for(count));
    for _ in 0..count {
        let key = reader.string()?;
        data.push(key, D::read(&mut reader)?);
    }
    if !reader.0.is_empty() {
        return Err(malformed("trailing bytes"));
    }
    Ok(data)
}

fn put_value(out: &mut Vec<u8>, value: &Value) -> Result<(), Error> {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => put_number(out, n)?,
        Value::String(s) => {
            out.push(STRING);
            put_str(out, s);
        }
        Value::Array(items) => {
            out.push(ARRAY);
            put_len(out, items.len());
            for item in items {
                put_value(out, item)?;
            }
        }
        Value::Object(map) => {
            out.push(OBJECT);
            put_len(out, map.len());
            for (key, value) in map {
                put_str(out, key);
                put_value(out, value)?;
            }
        }
    }
    Ok(())
}

fn put_number(out: &mut Vec<u8>, n: &Number) -> Result<(), Error> {
    if let Some(u) = n.as_u64() {
        out.push(UNSIGNED);
        put_varint(out, u);
    } else if let Some(i) = n.as_i64().and_then(|i| u64::try_from(!i).ok()) {
        // A negative i64: its complement is the non-negative number -i - 1.
        out.push(NEGATIVE);
        put_varint(out, i);
    } else if let Some(f) = n.as_f64() {
        out.push(FLOAT);
        out.extend_from_slice(&f.to_le_bytes());
    } else {
        return Err(Error::Encode(format!(
            "session data: unsupported number {n}"
        )));
    }
    Ok(())
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // usize is at most 64 bits on every supported target.
    put_varint(out, len as u64);
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn malformed(what: &str) -> Error {
    Error::Decode(format!("stored session data: {what}"))
}

/// The bytes not read yet.
#[derive(Debug)]
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Error> {
        let (&b, rest) = self.0.split_first().ok_or_else(|| malformed("truncated"))?;
        self.0 = rest;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.0.len() {
            return Err(malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(malformed("number too long"))
    }

    fn len(&mut self) -> Result<usize, Error> {
        usize::try_from(self.varint()?).map_err(|_| malformed("length too large"))
    }

    /// A capacity to reserve for `count` items: each takes at least one byte, so a
    /// corrupted count cannot reserve more than the buffer's size.
    fn capacity_for(&self, count: usize) -> usize {
        count.min(self.0.len())
    }

    fn string(&mut self) -> Result<String, Error> {
        let len = self.len()?;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| malformed("invalid UTF-8"))
    }

    fn value(&mut self) -> Result<Value, Error> {
        Ok(match self.byte()? {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            UNSIGNED => Value::from(self.varint()?),
            NEGATIVE => {
                let complement = i64::try_from(self.varint()?)
                    .map_err(|_| malformed("negative number out of range"))?;
                Value::from(!complement)
            }
            FLOAT => {
                let (bytes, rest) = self
                    .0
                    .split_first_chunk::<8>()
                    .ok_or_else(|| malformed("truncated"))?;
                self.0 = rest;
                Number::from_f64(f64::from_le_bytes(*bytes))
                    .map(Value::Number)
                    .ok_or_else(|| malformed("non-finite float"))?
            }
            STRING => Value::String(self.string()?),
            ARRAY => Value::Array(self.array()?),
            OBJECT => Value::Object(self.object()?),
            _ => return Err(malformed("unknown tag")),
        })
    }

    fn array(&mut self) -> Result<Vec<Value>, Error> {
        let count = self.len()?;
        let mut items = Vec::with_capacity(self.capacity_for(count));
        for _ in 0..count {
            items.push(self.value()?);
        }
        Ok(items)
    }

    fn object(&mut self) -> Result<Map<String, Value>, Error> {
        let count = self.len()?;
        let mut map = Map::new();
        for _ in 0..count {
            let key = self.string()?;
            map.insert(key, self.value()?);
        }
        Ok(map)
    }
}
