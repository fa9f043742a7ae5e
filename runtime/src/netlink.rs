//! Netlink: a synchronous, batched socket, and what the kernel answers on it.
//!
//! Why not the rtnetlink crate's async connection: conlink needs requests *pipelined*
//! — many written with one `sendmsg(2)`, their acks read afterwards — and needs to
//! know exactly which of them the kernel carried out, for rollback. The kernel handles
//! every message of a `sendmsg` in order before the call returns, so once [`Socket::flush`]
//! has sent a batch, those requests are done and requests on *another* namespace's
//! socket may depend on them. Messages are still built with rtnetlink's packet crates.
//!
//! The socket asks for extended acks (`NETLINK_EXT_ACK`) so a failure carries the
//! kernel's own text ([`KernelError`]), and capped acks (`NETLINK_CAP_ACK`) so errors
//! do not echo the whole request back. What is sent is built elsewhere: the families
//! build rtnetlink requests (`crate::families`), `crate::nft` builds nf_tables batches.
//!
//! The socket only moves bytes; what it reads is taken apart by plain functions over
//! the buffer (`received`, `take_acks`, `dump_part`, `parse_error`), which
//! the fuzzing harness drives without a kernel (`crate::fuzzing`).

use rtnetlink::packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{protocols, Socket as SysSocket, SocketAddr};
use std::fmt;
use std::io;
use std::os::fd::AsRawFd;

/// An error the kernel returned for one request: its errno and, when the kernel gave
/// one, its extended-ack message (the text `ip` prints after "Error:").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelError {
    /// Positive errno value.
    pub errno: i32,
    /// Extended-ack text, if any.
    pub ext_ack: Option<String>,
}

impl KernelError {
    pub fn from_errno(errno: i32) -> KernelError {
        KernelError {
            errno,
            ext_ack: None,
        }
    }

    /// The errno of a failed system call, when it has one.
    pub fn from_os(e: &io::Error) -> Option<KernelError> {
        e.raw_os_error().map(KernelError::from_errno)
    }

    /// "Gone" errors: undoing something that no longer exists counts as success
    /// (docs/plan.md, "Steps and inverses").
    pub fn is_gone(&self) -> bool {
        matches!(
            self.errno,
            libc::ENOENT | libc::ENODEV | libc::ESRCH | libc::EADDRNOTAVAIL
        )
    }

    pub fn is_exists(&self) -> bool {
        self.errno == libc::EEXIST
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = io::Error::from_raw_os_error(self.errno);
        // The io::Error text ends with "(os error N)"; keep the kernel's wording first.
        match &self.ext_ack {
            Some(ack) => write!(f, "{ack} ({text})"),
            None => write!(f, "{text}"),
        }
    }
}

impl std::error::Error for KernelError {}

/// Why a netlink exchange (a dump, or a request sent on its own) failed: the kernel
/// refused it, the socket failed, or the answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Kernel(#[from] KernelError),
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    #[error("cannot parse the kernel's answer: {0}")]
    Parse(String),
}

impl Error {
    /// The kernel's answer, when the kernel refused.
    pub fn kernel(&self) -> Option<&KernelError> {
        match self {
            Error::Kernel(k) => Some(k),
            Error::Io(_) | Error::Parse(_) => None,
        }
    }

    /// Whether the kernel said the object is not there ([`KernelError::is_gone`]).
    pub fn is_gone(&self) -> bool {
        self.kernel().is_some_and(KernelError::is_gone)
    }
}

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

/// Flush automatically once this many requests or bytes are waiting: keeps the acks
/// of one batch well inside the receive buffer.
const MAX_PENDING: usize = 256;
const MAX_BYTES: usize = 64 * 1024;

/// The outcome of one request of a batch, by the sequence number it was given.
pub type Ack = (u32, Result<(), KernelError>);

pub struct Socket {
    sock: SysSocket,
    seq: u32,
    out: Vec<u8>,
    pending: Vec<u32>,
    /// Messages of the batch that wait for no ack (see [`Socket::queue_unacked`]).
    unacked: Vec<u32>,
    inbuf: Vec<u8>,
}

impl Socket {
    /// Opens a socket of `protocol` in the calling thread's network namespace.
    pub fn open(protocol: isize) -> io::Result<Socket> {
        let mut sock = SysSocket::new(protocol)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        let fd = sock.as_raw_fd();
        for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            setsockopt_int(fd, libc::SOL_NETLINK, opt, 1)?;
        }
        // Large batches produce many acks at once; make room for them. FORCE works
        // as root beyond rmem_max; fall back quietly otherwise.
        if setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 4 << 20).is_err() {
            let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
        }
        Ok(Socket {
            sock,
            seq: 0,
            out: Vec::new(),
            pending: Vec::new(),
            unacked: Vec::new(),
            // The kernel writes at most 32 KiB per read of a dump. Reserved, not
            // filled: only what the kernel writes is touched, and a run keeps one
            // socket per namespace.
            inbuf: Vec::with_capacity(64 * 1024),
        })
    }

    /// A route (rtnetlink) socket in the calling thread's namespace.
    pub fn route() -> io::Result<Socket> {
        Socket::open(protocols::NETLINK_ROUTE)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Appends one request with the given type, flags and payload bytes to the batch
    /// and returns its sequence number. `NLM_F_REQUEST | NLM_F_ACK` are always set.
    pub fn queue_raw(&mut self, msg_type: u16, flags: u16, payload: &[u8]) -> u32 {
        let seq = self.push_message(msg_type, flags | NLM_F_ACK, payload);
        self.pending.push(seq);
        seq
    }

    /// Appends a message that gets no ack of its own (nf_tables batch begin/end
    /// markers): `NLM_F_REQUEST` is set, `NLM_F_ACK` only if `flags` has it, and
    /// [`Socket::flush`] does not wait for an answer to it. If the kernel does answer
    /// it with an error, it refused the batch as a whole (nfnetlink does so, e.g. with
    /// `EPERM`, and then answers nothing else): every request of the batch still
    /// waiting for its ack gets that error.
    pub fn queue_unacked(&mut self, msg_type: u16, flags: u16, payload: &[u8]) -> u32 {
        let seq = self.push_message(msg_type, flags, payload);
        self.unacked.push(seq);
        seq
    }

    fn push_message(&mut self, msg_type: u16, flags: u16, payload: &[u8]) -> u32 {
        let seq = self.next_seq();
        let len = 16 + payload.len();
        self.out.extend_from_slice(&(len as u32).to_ne_bytes());
        self.out.extend_from_slice(&msg_type.to_ne_bytes());
        self.out
            .extend_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
        self.out.extend_from_slice(&seq.to_ne_bytes());
        self.out.extend_from_slice(&0u32.to_ne_bytes());
        self.out.extend_from_slice(payload);
        // Messages are 4-byte aligned.
        self.out.resize(self.out.len().next_multiple_of(4), 0);
        seq
    }

    /// Appends one rtnetlink request to the batch.
    pub fn queue(&mut self, msg: RouteNetlinkMessage, flags: u16) -> u32 {
        let bytes = encode(msg, flags | NLM_F_ACK, 0);
        let msg_type = u16::from_ne_bytes([bytes[4], bytes[5]]);
        self.queue_raw(msg_type, flags, &bytes[16..])
    }

    /// Whether the batch should be sent before more is added.
    pub fn is_full(&self) -> bool {
        self.pending.len() >= MAX_PENDING || self.out.len() >= MAX_BYTES
    }

    /// Number of requests waiting to be sent.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Sends the batch and collects one ack per request, in the order queued.
    pub fn flush(&mut self) -> io::Result<Vec<Ack>> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let sent = self.sock.send(&self.out, 0);
        self.out.clear();
        let pending = std::mem::take(&mut self.pending);
        let unacked = std::mem::take(&mut self.unacked);
        sent?;
        let mut acks: Vec<Ack> = Vec::with_capacity(pending.len());
        let mut got = vec![None; pending.len()];
        while got.iter().any(Option::is_none) {
            let n = self.recv()?;
            take_acks(&self.inbuf[..n], &pending, &unacked, &mut got)?;
        }
        for (seq, r) in pending.into_iter().zip(got) {
            acks.push((seq, r.unwrap_or(Ok(()))));
        }
        Ok(acks)
    }

    /// Sends one request on its own and waits for its ack (anything already queued
    /// is sent first; the first failure among them is returned).
    pub fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> Result<(), Error> {
        self.queue(msg, flags);
        Ok(first_error(self.flush()?)?)
    }

    /// Runs a dump request and returns every message of the answer.
    pub fn dump(&mut self, msg: RouteNetlinkMessage) -> Result<Vec<RouteNetlinkMessage>, Error> {
        self.fetch(msg, NLM_F_DUMP)
    }

    /// Runs a dump request and hands each message of the answer to `each` as it is
    /// read, so a large dump is never held whole.
    pub fn dump_each(
        &mut self,
        msg: RouteNetlinkMessage,
        mut each: impl FnMut(RouteNetlinkMessage),
    ) -> Result<(), Error> {
        self.dump_raw_with(encode(msg, NLM_F_DUMP, 0), |bytes| {
            if let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
                if let NetlinkPayload::InnerMessage(inner) = m.payload {
                    each(inner);
                }
            }
        })
    }

    /// Asks for one object (e.g. one interface by ifindex) and returns the answer.
    pub fn get(&mut self, msg: RouteNetlinkMessage) -> Result<Vec<RouteNetlinkMessage>, Error> {
        self.fetch(msg, NLM_F_ACK)
    }

    fn fetch(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, Error> {
        let mut out = Vec::new();
        self.dump_raw_with(encode(msg, flags, 0), |bytes| {
            if let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
                if let NetlinkPayload::InnerMessage(inner) = m.payload {
                    out.push(inner);
                }
            }
        })?;
        Ok(out)
    }

    /// Runs a dump request given as a whole encoded message (header included; its
    /// sequence number is replaced) and hands each answer message, header included,
    /// to `each`.
    pub fn dump_raw_with(
        &mut self,
        mut request: Vec<u8>,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), Error> {
        // Anything queued goes first so the dump sees its effect.
        first_error(self.flush()?)?;
        let seq = self.next_seq();
        request[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.sock.send(&request, 0)?;
        loop {
            let n = self.recv()?;
            if let Some(end) = dump_part(&self.inbuf[..n], seq, &mut each)? {
                return Ok(end?);
            }
        }
    }

    fn recv(&mut self) -> io::Result<usize> {
        loop {
            self.inbuf.clear();
            match self.sock.recv(&mut self.inbuf, 0) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// The first failure among a batch's acks, if any.
pub fn first_error(acks: Vec<Ack>) -> Result<(), KernelError> {
    acks.into_iter()
        .map(|(_, r)| r)
        .find(|r| r.is_err())
        .unwrap_or(Ok(()))
}

/// Serialises one rtnetlink message with a zero sequence number (the socket sets it).
pub fn encode(msg: RouteNetlinkMessage, flags: u16, seq: u32) -> Vec<u8> {
    let mut nl = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
    nl.header.flags = flags | NLM_F_REQUEST;
    nl.header.sequence_number = seq;
    nl.finalize();
    let mut buf = vec![0; nl.buffer_len()];
    nl.serialize(&mut buf);
    buf
}

/// One netlink message of a buffer the kernel wrote.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Received<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    /// The whole message, header included.
    pub message: &'a [u8],
}

impl<'a> Received<'a> {
    /// The message after its 16-byte header.
    pub fn body(&self) -> &'a [u8] {
        &self.message[16..]
    }
}

/// The messages of one read from a netlink socket, in order. A header whose length is
/// too short or runs past the buffer ends the walk: nothing after it can be framed.
pub(crate) fn received(buf: &[u8]) -> impl Iterator<Item = Received<'_>> {
    let mut at: usize = 0;
    std::iter::from_fn(move || {
        let b = buf.get(at..at.checked_add(16)?)?;
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if len < 16 || len > buf.len() - at {
            return None;
        }
        let message = &buf[at..at + len];
        at += len.next_multiple_of(4);
        Some(Received {
            ty: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
            message,
        })
    })
}

/// Files the acks found in one read of a batch's answers: `got[i]` is the outcome of
/// request `pending[i]` (both sorted by sequence number). An error answering one of
/// the `unacked` messages refuses the whole batch: every request still waiting gets it.
pub(crate) fn take_acks(
    buf: &[u8],
    pending: &[u32],
    unacked: &[u32],
    got: &mut [Option<Result<(), KernelError>>],
) -> io::Result<()> {
    for m in received(buf).filter(|m| m.ty == NLMSG_ERROR) {
        match pending.binary_search(&m.seq) {
            Ok(i) if got.get(i).is_some_and(Option::is_none) => {
                got[i] = Some(parse_error(m.body(), m.flags)?);
            }
            _ if unacked.binary_search(&m.seq).is_ok() => {
                if let Err(e) = parse_error(m.body(), m.flags)? {
                    // The whole batch was refused: no other answer will come.
                    for slot in got.iter_mut().filter(|g| g.is_none()) {
                        *slot = Some(Err(e.clone()));
                    }
                    return Ok(());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Hands the answers to dump request `seq` found in one read to `each`; `Some` once
/// the dump has ended, with the kernel's error if it refused the request. Messages of
/// other sequence numbers (late answers to earlier requests) are skipped.
pub(crate) fn dump_part(
    buf: &[u8],
    seq: u32,
    mut each: impl FnMut(&[u8]),
) -> io::Result<Option<Result<(), KernelError>>> {
    for m in received(buf).filter(|m| m.seq == seq) {
        match m.ty {
            NLMSG_DONE => return Ok(Some(Ok(()))),
            NLMSG_ERROR => return parse_error(m.body(), m.flags).map(Some),
            _ => each(m.message),
        }
    }
    Ok(None)
}

/// Parses the body of an `NLMSG_ERROR` message: errno 0 is an ack; otherwise the
/// error, with the extended-ack text when the kernel attached one. A body too short to
/// hold an errno, or a code that is not a negated errno, is not an answer at all: an
/// I/O error of the exchange.
pub(crate) fn parse_error(body: &[u8], flags: u16) -> io::Result<Result<(), KernelError>> {
    if body.len() < 4 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the kernel sent a netlink error message too short to hold an errno",
        ));
    }
    let code = i32::from_ne_bytes([body[0], body[1], body[2], body[3]]);
    if code == 0 {
        return Ok(Ok(()));
    }
    // The kernel sends `-errno`. i32::MIN has no negation (found by the fuzzer: it
    // panicked here in debug builds and gave a negative errno in release builds).
    let Some(errno) = code.checked_neg().filter(|e| *e > 0) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the kernel sent a netlink error message with code {code}, not an errno"),
        ));
    };
    let mut err = KernelError::from_errno(errno);
    if flags & NLM_F_ACK_TLVS != 0 && body.len() >= 20 {
        // With NETLINK_CAP_ACK the echoed request is its header only (16 bytes).
        let orig_len = u32::from_ne_bytes([body[4], body[5], body[6], body[7]]) as usize;
        let capped = flags & 0x100 != 0;
        let mut at = 4 + if capped {
            16
        } else {
            orig_len.next_multiple_of(4)
        };
        while at + 4 <= body.len() {
            let alen = u16::from_ne_bytes([body[at], body[at + 1]]) as usize;
            let aty = u16::from_ne_bytes([body[at + 2], body[at + 3]]) & 0x3fff;
            if alen < 4 || at + alen > body.len() {
                break;
            }
            if aty == NLMSGERR_ATTR_MSG {
                let text = &body[at + 4..at + alen];
                let text = text.split(|b| *b == 0).next().unwrap_or(&[]);
                err.ext_ack = Some(String::from_utf8_lossy(text).into_owned());
            }
            at += alen.next_multiple_of(4);
        }
    }
    Ok(Err(err))
}

fn setsockopt_int(
    fd: i32,
    level: libc::c_int,
    opt: libc::c_int,
    val: libc::c_int,
) -> io::Result<()> {
    // SAFETY: fd is a valid socket owned by the caller; the option value is a c_int
    // that lives for the duration of the call.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&val as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
