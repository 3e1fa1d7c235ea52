//! `#[engine_test]`: like `#[tokio::test]`, but the test runs on a thread with the stack
//! SurrealDB's engine needs (`specialistly::server::runtime`), not on the test harness's own
//! thread, whose stack only `RUST_MIN_STACK` sets. The embedded engine evaluates queries on the
//! thread of the task that awaits them, and the tests run the app in their own process.
//!
//! `#[engine_test]` runs on a current-thread runtime; `#[engine_test(multi_thread = N)]` on N
//! worker threads.

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{parse_macro_input, Expr, ItemFn, Lit, MetaNameValue, Token};

#[proc_macro_attribute]
pub fn engine_test(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = parse_macro_input!(item as ItemFn);
    let options = match Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse(args) {
        Ok(options) => options,
        Err(e) => return e.to_compile_error().into(),
    };
    let mut runtime = quote!(::tokio::runtime::Builder::new_current_thread());
    for option in &options {
        let workers = match (&option.value, option.path.is_ident("multi_thread")) {
            (
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Int(n), ..
                }),
                true,
            ) => n,
            _ => {
                return syn::Error::new_spanned(option, "expected `multi_thread = <workers>`")
                    .to_compile_error()
                    .into()
            }
        };
        runtime = quote!({
            let mut builder = ::tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(#workers);
            builder
        });
    }
    if function.sig.asyncness.is_none() {
        return syn::Error::new_spanned(function.sig.fn_token, "#[engine_test] needs an async fn")
            .to_compile_error()
            .into();
    }
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    sig.asyncness = None;
    quote!(
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis #sig {
            ::specialistly::server::runtime::block_on_engine_stack(#runtime, || async move #block)
        }
    )
    .into()
}
