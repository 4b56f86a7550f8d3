"""The key that seals the GitHub tokens sign-in keeps when people read their private repositories.

Customer managed and rotated yearly. Its policy lets the search function's role encrypt and
decrypt, in a grant's encryption context only, and nothing else use it: the account may
administer the key (so nobody is locked out of it) but, unlike AWS's default policy, holds no
`kms:*`, so no IAM policy of the account alone can let a person or another role decrypt a token
with it (rewriting the key policy first would, and CloudTrail records that). A table export, a
backup or a read of the table alone therefore yields no GitHub token.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

# What administering takes; nothing that decrypts, encrypts or grants either (no CreateGrant).
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
)
# Exactly what handler/signin/sealing.py calls.
USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt")
CONTEXT_KEY = "grant"  # the encryption context the function seals each grant's tokens in
STACK_TAG = "github-search-stack"  # the stack whose deploy role manages the key (its value)


def account_administers(account: str) -> dict[str, object]:
    """A stack key's first statement: the account administers it (nobody is locked out) and no more."""
    return {
        "Sid": "AccountAdministersButDoesNotUse",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": list(ADMIN_ACTIONS),
        "Resource": "*",
    }


def key_policy(account: str, role_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                account_administers(account),
                {
                    "Sid": "SearchFunctionSealsAndOpensGrantTokens",
                    "Effect": "Allow",
                    "Principal": {"AWS": role_arn},
                    "Action": list(USE_ACTIONS),
                    "Resource": "*",
                    "Condition": {"Null": {f"kms:EncryptionContext:{CONTEXT_KEY}": "false"}},
                },
            ],
        }
    )


def use_policy(key_arn: str) -> str:
    """The function role's own side: the same two actions, on this key only. The key policy alone
    would do (it names the role; no IAM policy is needed in the key's own account), so this grants
    nothing more: it says, on the role, what the role may do, and keeps working should the key
    policy ever delegate to IAM."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(USE_ACTIONS), "Resource": key_arn}],
        }
    )


def stack_key(
    name: str,
    description: str,
    policy: pulumi.Input[str],
    *,
    parent: pulumi.Resource,
    keep: bool,
    create_timeout: str | None = None,
) -> aws.kms.Key:
    """A key of this stack: rotated yearly, the longest deletion window (a key scheduled for
    deletion by mistake can be saved), protected with `keep`, and tagged with the stack, because
    the deploy role may manage only the keys tagged with its own stack (iam/deploy-role-policy.json)."""
    return aws.kms.Key(
        f"{name}-key",
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=policy,
        tags={STACK_TAG: pulumi.get_stack()},
        opts=pulumi.ResourceOptions(
            parent=parent,
            protect=keep,
            custom_timeouts=pulumi.CustomTimeouts(create=create_timeout) if create_timeout else None,
        ),
    )


class TokenKey(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        role_arn: pulumi.Input[str],
        keep: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`keep`: with deletionProtection the table outlives a destroy, and so must the key that opens
        its tokens (protected: `pulumi destroy` stops until deletionProtection is turned off)."""
        super().__init__("github-search:auth:TokenKey", name, None, opts)
        account = aws.get_caller_identity_output().account_id
        self.key = stack_key(
            name,
            "Seals the GitHub tokens of people signed in to GitHub search; only its function uses it",
            pulumi.Output.all(account, role_arn).apply(lambda args: key_policy(*args)),
            parent=self,
            keep=keep,
            # The key policy names the function's role: KMS refuses a principal IAM has not
            # propagated yet, which the provider retries for its IAM propagation time (2 min).
            create_timeout="10m",
        )
        self.register_outputs({"keyArn": self.key.arn})
