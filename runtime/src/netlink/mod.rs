//! Netlink: the socket, and the rtnetlink requests each plan step becomes.

pub mod addr;
pub mod link;
pub mod route;
pub mod socket;
pub mod tc;

pub use socket::Socket;
