//! Waiting for the kernel to announce a change in the calling thread's network
//! namespace: an interface, an address or a route added, changed or removed.
//!
//! A [`Changes`] is a netlink socket subscribed to rtnetlink's multicast groups for
//! links, IPv4 and IPv6 addresses and routes; [`Changes::wait`] returns when the
//! kernel sent something on it, or when the time is up. Its messages are read and
//! thrown away: a waiter only learns *that* something changed, and reads again what it
//! waits for (`observe`). So nothing can be missed by misreading a notification, and a
//! notification lost to a full socket buffer (`ENOBUFS`) counts as a change too.
//!
//! `conlink wait` uses it so a condition on interfaces or routes is checked again the
//! moment the kernel reports a change, rather than on the next tick of a timer.
//! Joining these groups needs no privilege.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use rtnetlink::sys::{protocols, Socket, SocketAddr};
use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

/// rtnetlink's multicast groups, as bits of `sockaddr_nl.nl_groups`
/// (include/uapi/linux/rtnetlink.h, `RTMGRP_*`).
const RTMGRP_LINK: u32 = 0x1;
const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV4_ROUTE: u32 = 0x40;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;
const RTMGRP_IPV6_ROUTE: u32 = 0x400;

/// A subscription to the changes of the calling thread's namespace.
pub struct Changes {
    sock: Socket,
    buf: Vec<u8>,
}

impl Changes {
    /// Subscribes, in the calling thread's namespace. Changes made from now on are
    /// announced; read what you wait for after subscribing, not before.
    pub fn subscribe() -> io::Result<Changes> {
        let mut sock = Socket::new(protocols::NETLINK_ROUTE)?;
        let groups = RTMGRP_LINK
            | RTMGRP_IPV4_IFADDR
            | RTMGRP_IPV4_ROUTE
            | RTMGRP_IPV6_IFADDR
            | RTMGRP_IPV6_ROUTE;
        sock.bind(&SocketAddr::new(0, groups))?;
        sock.set_non_blocking(true)?;
        Ok(Changes {
            sock,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// Waits at most `timeout` for the kernel to announce a change, and reads every
    /// announcement waiting. Returns whether there was one.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        if self.drain()? {
            return Ok(true);
        }
        // Whole milliseconds, rounded up so a short wait is not a busy loop; poll(2)
        // takes an i32, so a longer wait is cut to about 24 days.
        let ms = timeout.as_nanos().div_ceil(1_000_000);
        let ms = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, ms) {
            Ok(0) => Ok(false),
            Ok(_) => self.drain().map(|_| true),
            Err(nix::errno::Errno::EINTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads whatever is waiting; whether anything was.
    fn drain(&mut self) -> io::Result<bool> {
        let mut any = false;
        loop {
            self.buf.clear();
            match self.sock.recv(&mut self.buf, 0) {
                Ok(_) => any = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(any),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Announcements were dropped for want of room: something changed.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => any = true,
                Err(e) => return Err(e),
            }
        }
    }
}
