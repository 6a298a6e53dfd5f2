//! Raw 32-bit engines: word streams, no floats.

mod jump;
pub mod mt19937;
pub mod philox;

pub use jump::Mt19937Jump;
pub use mt19937::Mt19937;
pub use philox::Philox4x32;
