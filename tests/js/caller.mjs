// The AWS SDK for JavaScript v3 as a real client (tests/container.rs): the
// default credential chain (here, the container provider reading
// AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN),
// then sts:GetCallerIdentity at AWS_ENDPOINT_URL. Prints {"Arn", "AccessKeyId"}.
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";

const credentials = fromNodeProviderChain();
const client = new STSClient({ credentials });
const out = await client.send(new GetCallerIdentityCommand({}));
const creds = await credentials();
console.log(JSON.stringify({ Arn: out.Arn, AccessKeyId: creds.accessKeyId }));
