//! The baseline for `scripts/bench`: one STS AssumeRole made the plainest
//! way with the same SDK keyfob uses, credentials from the environment.
//! keyfob's cold-path overhead is its time minus this program's. The HTTPS
//! client is keyfob's (the SDK's default stack with ring as its crypto), as
//! the SDK crates are built without their aws-lc default.

use aws_config::BehaviorVersion;

fn main() {
    let role_arn = std::env::var("BENCH_ROLE_ARN").expect("BENCH_ROLE_ARN");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(keyfob::aws::https_client())
            .load()
            .await;
        aws_sdk_sts::Client::new(&config)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name("bench")
            .send()
            .await
            .expect("AssumeRole");
    });
}
