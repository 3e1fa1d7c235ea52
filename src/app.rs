//! The HTML shell, the router and the navigation bar.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

use crate::api::accounts::{current_user, Logout};
use crate::model::Role;
use crate::pages;
use crate::session::{use_session, Session};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    provide_script_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <IslandLoader options=options.clone()/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Leptos' `HydrationScripts` for islands, except that the bundle is neither preloaded nor
/// loaded on a page without islands (`island_loader.js`). Preloading it on every page made the
/// first visit of the slots page 336 KB, nearly all of it a bundle that page never ran.
#[component]
fn IslandLoader(options: LeptosOptions) -> impl IntoView {
    // As `HydrationScripts { islands: true }`: an islands page is not hydrated as a whole.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    #[cfg(feature = "ssr")]
    let (js, wasm) = crate::server::assets::bundle_hrefs(&options);
    #[cfg(not(feature = "ssr"))]
    let (js, wasm, _) = (String::new(), String::new(), options);
    let nonce = leptos::nonce::use_nonce();
    view! {
        <script type="module" nonce=nonce>
            {format!("{}({js:?}, {wasm:?});", include_str!("island_loader.js"))}
        </script>
    }
}

/// Gives the hydration scripts this response's nonce, the one its Content-Security-Policy
/// allows (set by `server::security`).
fn provide_script_nonce() {
    #[cfg(feature = "ssr")]
    if let Some(nonce) = use_context::<axum::http::request::Parts>().and_then(|parts| {
        parts
            .extensions
            .get::<crate::server::security::CspNonce>()
            .cloned()
    }) {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Specialistly"/>
        <Router>
            <Layout/>
        </Router>
    }
}

/// Everything under the router: the session, the navigation and the pages.
#[component]
fn Layout() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let user = Resource::new(
        || (),
        |_| async move { current_user().await.ok().flatten() },
    );
    provide_context(Session { user, logout });

    view! {
        <NavBar/>
        <main class="container" id="main">
            // Async: each page is sent once its data is loaded, so it is complete without
            // JavaScript and a redirect to the login page can still be a real 302.
            <Routes fallback=|| view! { <pages::errors::NotFound/> }>
                <Route path=path!("") view=pages::home::HomePage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=pages::auth::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/register") view=pages::auth::RegisterPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view=pages::auth::ForgotPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/reset-password") view=pages::auth::ResetPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/verify-email") view=pages::auth::VerifyEmailPage ssr=SsrMode::Async/>
                <Route path=path!("/confirm-email-change") view=pages::auth::ConfirmEmailChangePage ssr=SsrMode::Async/>
                <Route path=path!("/unsubscribe") view=pages::auth::UnsubscribePage ssr=SsrMode::Async/>
                <Route path=path!("/feedback/:token") view=pages::feedback::FeedbackPage ssr=SsrMode::Async/>
                <Route path=path!("/manage/:token") view=pages::manage::ManagePage ssr=SsrMode::Async/>
                <Route path=path!("/slots") view=pages::slots::SlotsPage ssr=SsrMode::Async/>
                <Route path=path!("/s/:handle") view=pages::specialist_page::SpecialistPageView ssr=SsrMode::Async/>
                <Route path=path!("/specialist") view=pages::specialist::DashboardPage ssr=SsrMode::Async/>
                <Route path=path!("/specialist/slots") view=pages::specialist::MySlotsPage ssr=SsrMode::Async/>
                <Route path=path!("/specialist/availability") view=pages::availability::AvailabilityPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/specialist/meetings")
                    view=pages::meeting_manager::MeetingManagerPage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/appointments") view=pages::appointments::MyAppointmentsPage ssr=SsrMode::Async/>
                <Route path=path!("/integrations") view=pages::integrations::IntegrationsPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/appointments/:slot_id/:booking_index")
                    view=pages::appointments::AppointmentPage
                    ssr=SsrMode::Async
                />
            </Routes>
        </main>
    }
}

#[component]
fn NavBar() -> impl IntoView {
    let session = use_session();
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"Specialistly"</A>
            <nav class="nav" aria-label="Main">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match session.user.await {
                            Some(user) => {
                                let links = match user.role {
                                    Role::Customer => view! {
                                        <A href="/slots">"Browse slots"</A>
                                        <A href="/appointments">"My appointments"</A>
                                        <A href="/integrations">"Integrations"</A>
                                    }
                                    .into_any(),
                                    Role::Specialist => view! {
                                        <A href="/specialist">"Dashboard"</A>
                                        <A href="/specialist/meetings">"Meeting Manager"</A>
                                        <A href="/specialist/slots">"My slots"</A>
                                        <A href="/integrations">"Integrations"</A>
                                    }
                                    .into_any(),
                                };
                                view! {
                                    {links}
                                    <a href="/account" class="nav-user" data-testid="nav-user" title="Your account">{user.name.clone()}</a>
                                    <ActionForm action=session.logout attr:class="inline-form">
                                        <button type="submit" class="btn btn-ghost">"Log out"</button>
                                    </ActionForm>
                                }
                                .into_any()
                            }
                            None => view! {
                                <A href="/slots">"Browse slots"</A>
                                <A href="/login">"Log in"</A>
                                <A href="/register" attr:class="btn btn-small">"Sign up"</A>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}
