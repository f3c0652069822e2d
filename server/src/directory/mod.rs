//! The extension directory (README "Extensions"): PBX extensions by number, imported from
//! CSV and exported to it. `import` reads and plans a file without I/O; `service` applies a
//! plan that refuses nothing, all at once.

pub mod import;
pub mod service;
