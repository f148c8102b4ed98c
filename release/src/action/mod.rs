pub mod install; pub mod common;
