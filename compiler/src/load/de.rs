//! serde deserialization from the YAML [`Node`] tree, with spans in errors.
//!
//! [`from_node`] deserializes any `Deserialize` type from a tree built by
//! [`crate::load::yaml::parse`]. Every error carries the span of the innermost node being
//! deserialized when it was raised, including errors that a `Deserialize` impl raises
//! itself with `Error::custom` after reading a value (a range check, say): each place
//! that hands a node to a `Deserialize` impl stamps the node's span on errors that do
//! not have one yet. `unknown_field` errors point at the key, `missing_field` errors at
//! the mapping.
//!
//! [`Spanned<T>`] fields receive the span of their node, in the style of toml's
//! `serde_spanned`: `Spanned`'s `Deserialize` asks for a newtype struct with a private
//! name, and this deserializer answers with a small map of the span and the value.
//! Other deserializers (serde_json, or serde's own buffering for `#[serde(untagged)]`
//! enums) just see a newtype struct and produce the value with [`Span::default()`].

use super::node::{Key, Node, Value};
use crate::source::Spanned;
use crate::source::{FileId, Span};
use serde::de::value::{BorrowedStrDeserializer, U32Deserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Expected, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A deserialization error with the span of the node it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeError {
    pub message: String,
    pub span: Span,
}

/// The span of an error raised through [`de::Error::custom`] before any node was
/// assigned to it. Never returned by [`from_node`]: at the latest, the root node's span
/// replaces it. (A real span cannot take this value: files are far smaller.)
const UNLOCATED: Span = Span {
    file: FileId(u32::MAX),
    start: u32::MAX,
    end: u32::MAX,
};

impl DeError {
    pub fn new(message: impl Into<String>, span: Span) -> DeError {
        DeError {
            message: message.into(),
            span,
        }
    }

    /// Gives the error `span` unless a more precise (inner) span was set already.
    fn or_at(mut self, span: Span) -> DeError {
        if self.span == UNLOCATED {
            self.span = span;
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> DeError {
        DeError {
            message: msg.to_string(),
            span: UNLOCATED,
        }
    }
}

/// Deserializes a `T` from a node tree. Strings are borrowed from the tree where `T`
/// allows it.
pub fn from_node<'de, T: Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(NodeDeserializer::new(node)).map_err(|e| e.or_at(node.span))
}

/// Runs `seed` on `node`, stamping the node's span on errors that have none: this is
/// what makes an error point at the innermost node, since the innermost call returns
/// first.
fn seed_node<'de, S: DeserializeSeed<'de>>(seed: S, node: &'de Node) -> Result<S::Value, DeError> {
    seed.deserialize(NodeDeserializer::new(node))
        .map_err(|e| e.or_at(node.span))
}

fn seed_key<'de, S: DeserializeSeed<'de>>(seed: S, key: &'de Key) -> Result<S::Value, DeError> {
    seed.deserialize(KeyDeserializer { key })
        .map_err(|e| e.or_at(key.span))
}

// ---------------------------------------------------------------------------------
// The node deserializer.

/// A serde [`Deserializer`] over one node of the tree.
#[derive(Clone, Copy)]
pub struct NodeDeserializer<'de> {
    node: &'de Node,
}

impl<'de> NodeDeserializer<'de> {
    pub fn new(node: &'de Node) -> NodeDeserializer<'de> {
        NodeDeserializer { node }
    }

    fn span(&self) -> Span {
        self.node.span
    }

    fn invalid_type(&self, expected: &dyn Expected) -> DeError {
        <DeError as de::Error>::invalid_type(unexpected(self.node), expected).or_at(self.span())
    }

    fn int(&self, expected: &dyn Expected) -> Result<i64, DeError> {
        match self.node.value {
            Value::Int(i) => Ok(i),
            _ => Err(self.invalid_type(expected)),
        }
    }
}

/// How serde describes a node in "invalid type: …, expected …" messages.
fn unexpected(node: &Node) -> Unexpected<'_> {
    match &node.value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Int(i) => Unexpected::Signed(*i),
        Value::Float(f) => Unexpected::Float(*f),
        Value::Str(s) => Unexpected::Str(s),
        Value::Seq(_) => Unexpected::Seq,
        Value::Map(_) => Unexpected::Map,
    }
}

/// Integer methods: the node must be an integer that fits the requested type.
macro_rules! deserialize_int {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let i = self.int(&visitor)?;
            match <$ty>::try_from(i) {
                Ok(v) => visitor.$visit(v),
                Err(_) => Err(DeError::new(
                    format!("{i} is out of range ({}-{})", <$ty>::MIN, <$ty>::MAX),
                    self.span(),
                )),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for NodeDeserializer<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => visit_seq(items, self.span(), visitor),
            Value::Map(entries) => visit_map(entries, self.span(), visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    deserialize_int! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_u128 => u128, visit_u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    /// Floats accept integers too: `mtu: 1500` where a number is expected is fine.
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Float(f) => visitor.visit_f64(f),
            Value::Int(i) => visitor.visit_f64(i as f64),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Value::Str(s) = &self.node.value {
            let mut chars = s.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                return visitor.visit_char(c);
            }
        }
        Err(self.invalid_type(&visitor))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => visitor.visit_borrowed_str(s),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
            Value::Seq(items) => visit_seq(items, self.span(), visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED_NAME {
            visitor.visit_map(SpannedAccess::new(self.span(), self))
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) => visit_seq(items, self.span(), visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(entries) => visit_map(entries, self.span(), visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    /// An enum is written either as a plain string (a unit variant) or as a mapping
    /// with a single key, the variant, whose value is the variant's content.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => visitor.visit_enum(UnitVariant { name: s }),
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor.visit_enum(MapVariant { key, value })
            }
            _ => Err(self.invalid_type(&"a string or a mapping with a single key")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    /// Ignored values are not looked at, whatever their shape.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// Hands a sequence's items to a visitor, refusing items it leaves unread (a tuple
/// shorter than the list, say).
fn visit_seq<'de, V: Visitor<'de>>(
    items: &'de [Node],
    span: Span,
    visitor: V,
) -> Result<V::Value, DeError> {
    let mut access = NodeSeq {
        items: items.iter(),
    };
    let value = visitor.visit_seq(&mut access)?;
    if access.items.len() > 0 {
        return Err(
            <DeError as de::Error>::invalid_length(items.len(), &"fewer items").or_at(span),
        );
    }
    Ok(value)
}

fn visit_map<'de, V: Visitor<'de>>(
    entries: &'de [(Key, Node)],
    span: Span,
    visitor: V,
) -> Result<V::Value, DeError> {
    let mut access = NodeMap {
        entries: entries.iter(),
        value: None,
    };
    let value = visitor.visit_map(&mut access)?;
    if access.entries.len() > 0 {
        return Err(
            <DeError as de::Error>::invalid_length(entries.len(), &"fewer entries").or_at(span),
        );
    }
    Ok(value)
}

struct NodeSeq<'de> {
    items: std::slice::Iter<'de, Node>,
}

impl<'de> SeqAccess<'de> for NodeSeq<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.items
            .next()
            .map(|item| seed_node(seed, item))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct NodeMap<'de> {
    entries: std::slice::Iter<'de, (Key, Node)>,
    /// The value of the key returned last.
    value: Option<&'de Node>,
}

impl<'de> MapAccess<'de> for NodeMap<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        // Errors about the key itself (`unknown_field`) point at the key.
        seed_key(seed, key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(value) => seed_node(seed, value),
            None => Err(de::Error::custom(
                "a map value was asked for before its key",
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum written as a plain string: only unit variants fit.
struct UnitVariant<'de> {
    name: &'de str,
}

impl<'de> EnumAccess<'de> for UnitVariant<'de> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let variant = seed.deserialize(BorrowedStrDeserializer::<DeError>::new(self.name))?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for UnitVariant<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, DeError> {
        Err(de::Error::invalid_type(
            Unexpected::Str(self.name),
            &"a mapping `VARIANT: VALUE`",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, DeError> {
        Err(de::Error::invalid_type(
            Unexpected::Str(self.name),
            &"a mapping `VARIANT: [ITEMS]`",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, DeError> {
        Err(de::Error::invalid_type(
            Unexpected::Str(self.name),
            &"a mapping `VARIANT: {FIELDS}`",
        ))
    }
}

/// An enum written as a mapping with a single key: the key names the variant, the
/// value is its content.
struct MapVariant<'de> {
    key: &'de Key,
    value: &'de Node,
}

impl<'de> EnumAccess<'de> for MapVariant<'de> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let variant = seed_key(seed, self.key)?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for MapVariant<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value.value {
            Value::Null => Ok(()),
            _ => {
                Err(NodeDeserializer::new(self.value).invalid_type(&"nothing after a unit variant"))
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed_node(seed, self.value)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        NodeDeserializer::new(self.value)
            .deserialize_seq(visitor)
            .map_err(|e| e.or_at(self.value.span))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        NodeDeserializer::new(self.value)
            .deserialize_map(visitor)
            .map_err(|e| e.or_at(self.value.span))
    }
}

// ---------------------------------------------------------------------------------
// Mapping keys.

/// A serde [`Deserializer`] over a mapping key: a string, which may also be read as a
/// number or boolean (for maps keyed by integers), a unit enum variant, or a
/// [`Spanned`] string with the key's span.
struct KeyDeserializer<'de> {
    key: &'de Key,
}

impl KeyDeserializer<'_> {
    fn invalid_type(&self, expected: &dyn Expected) -> DeError {
        <DeError as de::Error>::invalid_type(Unexpected::Str(&self.key.name), expected)
            .or_at(self.key.span)
    }
}

/// Key methods for numbers and booleans: the key's text must parse as one.
macro_rules! deserialize_parsed_key {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self.key.name.parse::<$ty>() {
                Ok(v) => visitor.$visit(v),
                Err(_) => Err(self.invalid_type(&visitor)),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for KeyDeserializer<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_str(&self.key.name)
    }

    deserialize_parsed_key! {
        deserialize_bool => bool, visit_bool;
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED_NAME {
            visitor.visit_map(SpannedAccess::new(self.key.span, self))
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_enum(UnitVariant {
            name: &self.key.name,
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i128 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier
    }
}

// ---------------------------------------------------------------------------------
// Spanned<T>.

/// The newtype-struct name by which `Spanned`'s `Deserialize` asks for a span.
const SPANNED_NAME: &str = "$__conlink_private_Spanned";
const FIELD_FILE: &str = "$__conlink_private_file";
const FIELD_START: &str = "$__conlink_private_start";
const FIELD_END: &str = "$__conlink_private_end";
const FIELD_VALUE: &str = "$__conlink_private_value";
const SPANNED_FIELDS: [&str; 4] = [FIELD_FILE, FIELD_START, FIELD_END, FIELD_VALUE];

/// The map handed to `Spanned`'s visitor: the span's three numbers, then the value,
/// deserialized from the same node (or key) by `value`.
struct SpannedAccess<D> {
    span: Span,
    value: Option<D>,
    /// Index in [`SPANNED_FIELDS`] of the next entry.
    next: usize,
}

impl<D> SpannedAccess<D> {
    fn new(span: Span, value: D) -> SpannedAccess<D> {
        SpannedAccess {
            span,
            value: Some(value),
            next: 0,
        }
    }
}

impl<'de, D: Deserializer<'de, Error = DeError>> MapAccess<'de> for SpannedAccess<D> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match SPANNED_FIELDS.get(self.next) {
            Some(field) => seed
                .deserialize(BorrowedStrDeserializer::new(field))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let field = self.next;
        self.next += 1;
        let number = |n: u32| U32Deserializer::<DeError>::new(n);
        match field {
            0 => seed.deserialize(number(self.span.file.0)),
            1 => seed.deserialize(number(self.span.start)),
            2 => seed.deserialize(number(self.span.end)),
            _ => match self.value.take() {
                Some(d) => seed.deserialize(d).map_err(|e| e.or_at(self.span)),
                None => Err(de::Error::custom("a Spanned value was read twice")),
            },
        }
    }
}

/// One of the private field names of [`SpannedAccess`].
enum SpannedField {
    File,
    Start,
    End,
    Value,
}

impl<'de> Deserialize<'de> for SpannedField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SpannedField, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = SpannedField;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Spanned field")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<SpannedField, E> {
                match v {
                    FIELD_FILE => Ok(SpannedField::File),
                    FIELD_START => Ok(SpannedField::Start),
                    FIELD_END => Ok(SpannedField::End),
                    FIELD_VALUE => Ok(SpannedField::Value),
                    other => Err(E::unknown_field(other, &SPANNED_FIELDS)),
                }
            }
        }
        d.deserialize_identifier(FieldVisitor)
    }
}

struct SpannedVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
    type Value = Spanned<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }

    /// The map of [`SpannedAccess`]: only this module's deserializers produce it.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
        let (mut file, mut start, mut end, mut value) = (None, None, None, None);
        while let Some(field) = map.next_key::<SpannedField>()? {
            match field {
                SpannedField::File => file = Some(map.next_value::<u32>()?),
                SpannedField::Start => start = Some(map.next_value::<u32>()?),
                SpannedField::End => end = Some(map.next_value::<u32>()?),
                SpannedField::Value => value = Some(map.next_value::<T>()?),
            }
        }
        let missing = |f| <A::Error as de::Error>::missing_field(f);
        let span = Span {
            file: FileId(file.ok_or_else(|| missing(FIELD_FILE))?),
            start: start.ok_or_else(|| missing(FIELD_START))?,
            end: end.ok_or_else(|| missing(FIELD_END))?,
        };
        Ok(Spanned::new(
            value.ok_or_else(|| missing(FIELD_VALUE))?,
            span,
        ))
    }

    /// Any other deserializer: the value without a span.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Spanned<T>, D::Error> {
        T::deserialize(d).map(|value| Spanned::new(value, Span::default()))
    }
}

/// Deserializes the value and records where it was written. Through this module's
/// deserializer the span is the node's (or the key's, for a `Spanned` map key); any
/// other deserializer gives [`Span::default()`], including serde's buffering for
/// `#[serde(untagged)]` and `#[serde(flatten)]`, which loses spans below it.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Spanned<T>, D::Error> {
        d.deserialize_newtype_struct(SPANNED_NAME, SpannedVisitor(PhantomData))
    }
}

/// Serializes only the value: a span is not part of the data.
impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

/// `Spanned<T>` has exactly `T`'s schema: the span is invisible in the data.
impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }

    // schemars' own wrappers (Box, Arc, …) forward these hidden methods too; without
    // them a `Spanned<Option<T>>` field would be treated as required, unlike
    // `Option<T>`.
    #[allow(clippy::used_underscore_items)]
    fn _schemars_private_non_optional_json_schema(
        generator: &mut schemars::SchemaGenerator,
    ) -> schemars::Schema {
        T::_schemars_private_non_optional_json_schema(generator)
    }

    #[allow(clippy::used_underscore_items)]
    fn _schemars_private_is_option() -> bool {
        T::_schemars_private_is_option()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml;
    use crate::model::StrList;
    use std::collections::BTreeMap;

    const F: FileId = FileId(2);

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct Conf<'a> {
        name: Spanned<String>,
        /// Borrowed from the tree.
        #[serde(borrow)]
        note: Option<&'a str>,
        port: Option<u16>,
        #[serde(default)]
        tags: Vec<Spanned<String>>,
        inner: Option<Inner>,
        mode: Option<Spanned<Mode>>,
        #[serde(default)]
        shapes: Vec<Shape>,
        ratio: Option<f64>,
        mtu: Option<Spanned<Mtu>>,
        #[serde(default)]
        routes: StrList,
        #[serde(default)]
        labels: BTreeMap<Spanned<String>, u8>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        enabled: bool,
        count: Option<i32>,
    }

    #[derive(Debug, Deserialize, PartialEq, Clone, Copy)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Auto,
        Linux,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Shape {
        Point,
        Circle(f64),
        Rect { w: u32, h: u32 },
        Pair(u8, u8),
    }

    /// Like the model's ranged integers: checked after the integer is read.
    #[derive(Debug, PartialEq)]
    struct Mtu(u32);

    impl<'de> Deserialize<'de> for Mtu {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Mtu, D::Error> {
            let v = i64::deserialize(d)?;
            if !(68..=65535).contains(&v) {
                return Err(de::Error::custom(format!("{v} is out of range 68-65535")));
            }
            Ok(Mtu(v as u32))
        }
    }

    fn tree(text: &str) -> Node {
        yaml::parse(F, text).expect("valid YAML")
    }

    fn at(text: &str, span: Span) -> &str {
        assert_eq!(span.file, F);
        &text[span.start as usize..span.end as usize]
    }

    /// The error of deserializing `Conf` from `text`, and the text its span covers.
    fn error(text: &str) -> (String, String) {
        let node = tree(text);
        let e = from_node::<Conf<'_>>(&node).expect_err("should fail");
        (e.message.clone(), at(text, e.span).to_string())
    }

    const GOOD: &str = "\
name: ünïcode
note: borrowed
port: 8080
tags: [a, 'b']
inner: {enabled: true, count: -3}
mode: linux
shapes:
  - point
  - circle: 1.5
  - rect: {w: 2, h: 3}
  - pair: [1, 2]
ratio: 2
mtu: 1500
routes: default via 10.0.0.1
labels: {x: 1, y: 2}
";

    #[test]
    fn values_and_spans() {
        let node = tree(GOOD);
        let c: Conf<'_> = from_node(&node).unwrap();
        assert_eq!(c.name.value, "ünïcode");
        assert_eq!(at(GOOD, c.name.span), "ünïcode");
        assert_eq!(c.note, Some("borrowed"));
        assert_eq!(c.port, Some(8080));
        let tags: Vec<(&str, &str)> = c
            .tags
            .iter()
            .map(|t| (t.value.as_str(), at(GOOD, t.span)))
            .collect();
        assert_eq!(tags, [("a", "a"), ("b", "'b'")]);
        assert_eq!(
            c.inner,
            Some(Inner {
                enabled: true,
                count: Some(-3)
            })
        );
        let mode = c.mode.unwrap();
        assert_eq!(mode.value, Mode::Linux);
        assert_eq!(at(GOOD, mode.span), "linux");
        assert_eq!(
            c.shapes,
            [
                Shape::Point,
                Shape::Circle(1.5),
                Shape::Rect { w: 2, h: 3 },
                Shape::Pair(1, 2)
            ]
        );
        assert_eq!(c.ratio, Some(2.0));
        assert_eq!(c.mtu.as_ref().map(|m| &m.value), Some(&Mtu(1500)));
        assert_eq!(c.routes.0.len(), 1);
        assert_eq!(at(GOOD, c.routes.0[0].span), "default via 10.0.0.1");
        let labels: Vec<(&str, u8)> = c
            .labels
            .iter()
            .map(|(k, v)| (at(GOOD, k.span), *v))
            .collect();
        assert_eq!(labels, [("x", 1), ("y", 2)]);
    }

    #[test]
    fn absent_and_null_options_are_none() {
        let node = tree("name: x\nport: ~\n");
        let c: Conf<'_> = from_node(&node).unwrap();
        assert_eq!((c.port, c.inner, c.mode.is_none()), (None, None, true));
        assert!(c.tags.is_empty());
    }

    #[test]
    fn string_or_list_keeps_item_spans() {
        let text = "name: x\nroutes:\n  - r1\n  - \"r2\"\n";
        let node = tree(text);
        let c: Conf<'_> = from_node(&node).unwrap();
        let routes: Vec<&str> = c.routes.0.iter().map(|r| at(text, r.span)).collect();
        assert_eq!(routes, ["r1", "\"r2\""]);
        assert_eq!(error("name: x\nroutes: [a, 5]\n").1, "5");
    }

    #[test]
    fn unknown_field_points_at_the_key() {
        let (message, at) = error("name: x\ninner: {enabled: true, colour: red}\n");
        assert_eq!(at, "colour");
        assert!(message.starts_with("unknown field `colour`"), "{message}");
    }

    #[test]
    fn missing_field_points_at_the_mapping() {
        let (message, at) = error("name: x\ninner: {count: 1}\n");
        assert_eq!(message, "missing field `enabled`");
        assert_eq!(at, "{count: 1}");
    }

    #[test]
    fn wrong_types_point_at_the_node() {
        let (message, at) = error("name: [x]\n");
        assert_eq!(at, "[x]");
        assert!(
            message.starts_with("invalid type: sequence, expected a string"),
            "{message}"
        );
        assert_eq!(error("name: x\ninner: {enabled: 'yes'}\n").1, "'yes'");
        assert_eq!(error("name: x\ntags: [a, {b: c}]\n").1, "{b: c}");
        assert_eq!(error("name: x\nratio: abc\n").1, "abc");
        assert_eq!(error("name: x\nmode: 3\n").1, "3");
    }

    #[test]
    fn integer_ranges() {
        let (message, at) = error("name: x\nport: 70000\n");
        assert_eq!(
            (message.as_str(), at.as_str()),
            ("70000 is out of range (0-65535)", "70000")
        );
        assert_eq!(error("name: x\nport: -1\n").1, "-1");
        assert_eq!(error("name: x\nshapes: [{pair: [1, 300]}]\n").1, "300");
        // An error raised by a Deserialize impl after reading its value.
        let (message, at) = error("name: x\nmtu: 9\n");
        assert_eq!(
            (message.as_str(), at.as_str()),
            ("9 is out of range 68-65535", "9")
        );
    }

    #[test]
    fn enum_errors() {
        let (message, at) = error("name: x\nmode: ovs\n");
        assert_eq!(at, "ovs");
        assert!(message.starts_with("unknown variant `ovs`"), "{message}");
        let (message, at) = error("name: x\nshapes: [{hexagon: 1}]\n");
        assert_eq!(at, "hexagon");
        assert!(
            message.starts_with("unknown variant `hexagon`"),
            "{message}"
        );
        assert_eq!(error("name: x\nshapes: [circle]\n").1, "circle");
        assert_eq!(error("name: x\nshapes: [{rect: {w: 1}}]\n").1, "{w: 1}");
        assert_eq!(error("name: x\nshapes: [{a: 1, b: 2}]\n").1, "{a: 1, b: 2}");
    }

    #[test]
    fn extra_tuple_items_are_an_error() {
        assert_eq!(
            error("name: x\nshapes: [{pair: [1, 2, 3]}]\n").1,
            "[1, 2, 3]"
        );
    }

    #[test]
    fn deserialize_any_and_ignored_any() {
        let node = tree("a: [1, 2.5, true, ~, s]\nb: {c: d}\n");
        let json: serde_json::Value = from_node(&node).unwrap();
        assert_eq!(json, node.to_json());
        // Unknown fields without deny_unknown_fields are skipped whatever they hold.
        #[derive(Deserialize)]
        struct OnlyB {
            b: BTreeMap<String, String>,
        }
        let only: OnlyB = from_node(&node).unwrap();
        assert_eq!(only.b["c"], "d");
    }

    #[test]
    fn top_level_and_newtype_values() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Name(String);
        let node = tree("hello");
        assert_eq!(from_node::<Name>(&node).unwrap(), Name("hello".into()));
        let s: Spanned<&str> = from_node(&node).unwrap();
        assert_eq!((s.value, s.span), ("hello", Span::new(F, 0, 5)));
        let e = from_node::<u8>(&node).unwrap_err();
        assert_eq!(e.span, Span::new(F, 0, 5));
        // Map keys can be read as integers.
        let node = tree("1: a\n20: b\n");
        let m: BTreeMap<u16, String> = from_node(&node).unwrap();
        assert_eq!(m[&20], "b");
    }

    #[test]
    fn spanned_elsewhere_has_no_span() {
        // serde's buffering for untagged enums does not go through this deserializer.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(Spanned<String>),
            Many(Vec<Spanned<String>>),
        }
        let node = tree("[a, b]");
        let v = match from_node(&node).unwrap() {
            OneOrMany::Many(v) => v,
            OneOrMany::One(s) => vec![s],
        };
        assert_eq!(v[1].value, "b");
        assert_eq!(v[1].span, Span::default());
        let s: Spanned<u8> = serde_json::from_str("7").unwrap();
        assert_eq!((s.value, s.span), (7, Span::default()));
    }

    #[test]
    fn spanned_serializes_and_describes_itself_as_its_value() {
        let s = Spanned::new("x".to_string(), Span::new(F, 1, 2));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"x\"");
        let spanned = serde_json::to_value(schemars::schema_for!(Spanned<String>)).unwrap();
        let plain = serde_json::to_value(schemars::schema_for!(String)).unwrap();
        assert_eq!(spanned, plain);
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Holder {
            a: Spanned<Option<u8>>,
            b: Option<u8>,
            c: Spanned<u8>,
        }
        let schema = serde_json::to_value(schemars::schema_for!(Holder)).unwrap();
        assert_eq!(schema["properties"]["a"], schema["properties"]["b"]);
        assert_eq!(schema["required"], serde_json::json!(["c"]));
    }
}
