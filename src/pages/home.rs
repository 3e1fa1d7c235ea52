use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let deleted = leptos_router::hooks::use_query_map()
        .with_untracked(|q| q.get("account_deleted").is_some());
    view! {
        {deleted.then(|| view! {
            <p class="alert alert-success" role="status" data-testid="account-deleted">
                "Your account is deleted, and you are signed out. We have emailed you a confirmation."
            </p>
        })}
        <section class="hero">
            <h1>"Book time with a specialist"</h1>
            <p class="lead">
                "Pick a consulting slot, book your seat (with an account or just your name and email), and get your Zoom link by email once your specialist creates the meeting."
            </p>
            <p class="actions">
                <a class="btn" href="/slots">"Browse slots"</a>
                <a class="btn btn-secondary" href="/register">"Create an account"</a>
            </p>
        </section>
        <section class="steps">
            <div class="card"><h2>"1. Book"</h2><p>"Choose a slot that suits you. You get a confirmation and a calendar invite."</p></div>
            <div class="card"><h2>"2. Get the link"</h2><p>"Your specialist creates the Zoom meeting shortly before the appointment; the link arrives by email."</p></div>
            <div class="card"><h2>"3. Meet"</h2><p>"Join from the email or from your appointment page."</p></div>
        </section>
    }
}
