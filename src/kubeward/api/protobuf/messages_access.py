"""Message tables for the access-control groups: authentication, authorization, RBAC and
certificates (all ``v1``).

Field numbers from ``staging/src/k8s.io/api/{authentication,authorization,rbac,certificates}/v1/
generated.proto``; ``SelfSubjectReview`` {1 metadata, 2 status{1 userInfo}} from the protobuf tags
of its Go type. ``ExtraValue`` (``map<string, ExtraValue>``) is a list of strings in JSON.
"""

from __future__ import annotations

from kubeward.api.protobuf.schema import (
    Message,
    Special,
    blob,
    boolean,
    int32,
    int64,
    message,
    message_map,
    messages,
    object_meta,
    string,
    strings,
    timestamp,
)

_AUTHENTICATION: dict[str, Message] = {
    "authentication.TokenRequest": {
        1: object_meta(),
        2: message("spec", "authentication.TokenRequestSpec"),
        3: message("status", "authentication.TokenRequestStatus"),
    },
    "authentication.TokenRequestSpec": {
        1: strings("audiences"),
        4: int64("expirationSeconds", keep_zero=True),
        3: message("boundObjectRef", "authentication.BoundObjectReference"),
    },
    "authentication.BoundObjectReference": {
        1: string("kind"),
        2: string("apiVersion"),
        3: string("name"),
        4: string("uid"),
    },
    "authentication.TokenRequestStatus": {
        1: string("token", keep_zero=True),
        2: timestamp("expirationTimestamp"),
    },
    "authentication.TokenReview": {
        1: object_meta(),
        2: message("spec", "authentication.TokenReviewSpec"),
        3: message("status", "authentication.TokenReviewStatus"),
    },
    "authentication.TokenReviewSpec": {
        1: string("token"),
        2: strings("audiences"),
    },
    "authentication.TokenReviewStatus": {
        1: boolean("authenticated"),
        2: message("user", "authentication.UserInfo"),
        4: strings("audiences"),
        3: string("error"),
    },
    "authentication.UserInfo": {
        1: string("username"),
        2: string("uid"),
        3: strings("groups"),
        4: message_map("extra", Special.STRING_LIST),
    },
    "authentication.SelfSubjectReview": {
        1: object_meta(),
        2: message("status", "authentication.SelfSubjectReviewStatus"),
    },
    "authentication.SelfSubjectReviewStatus": {
        1: message("userInfo", "authentication.UserInfo"),
    },
}

_REVIEW = {
    1: object_meta(),
    2: message("spec", "authorization.SubjectAccessReviewSpec"),
    3: message("status", "authorization.SubjectAccessReviewStatus"),
}

_AUTHORIZATION: dict[str, Message] = {
    "authorization.SubjectAccessReview": _REVIEW,
    "authorization.LocalSubjectAccessReview": _REVIEW,
    "authorization.SelfSubjectAccessReview": {
        1: object_meta(),
        2: message("spec", "authorization.SelfSubjectAccessReviewSpec"),
        3: message("status", "authorization.SubjectAccessReviewStatus"),
    },
    "authorization.SelfSubjectAccessReviewSpec": {
        1: message("resourceAttributes", "authorization.ResourceAttributes"),
        2: message("nonResourceAttributes", "authorization.NonResourceAttributes"),
    },
    "authorization.SubjectAccessReviewSpec": {
        1: message("resourceAttributes", "authorization.ResourceAttributes"),
        2: message("nonResourceAttributes", "authorization.NonResourceAttributes"),
        3: string("user"),
        4: strings("groups"),
        5: message_map("extra", Special.STRING_LIST),
        6: string("uid"),
    },
    "authorization.ResourceAttributes": {
        1: string("namespace"),
        2: string("verb"),
        3: string("group"),
        4: string("version"),
        5: string("resource"),
        6: string("subresource"),
        7: string("name"),
        8: message("fieldSelector", "authorization.FieldSelectorAttributes"),
        9: message("labelSelector", "authorization.LabelSelectorAttributes"),
    },
    "authorization.FieldSelectorAttributes": {
        1: string("rawSelector"),
        2: messages("requirements", "authorization.FieldSelectorRequirement"),
    },
    "authorization.FieldSelectorRequirement": {
        1: string("key", keep_zero=True),
        2: string("operator", keep_zero=True),
        3: strings("values"),
    },
    "authorization.LabelSelectorAttributes": {
        1: string("rawSelector"),
        2: messages("requirements", "meta.LabelSelectorRequirement"),
    },
    "authorization.NonResourceAttributes": {
        1: string("path"),
        2: string("verb"),
    },
    "authorization.SubjectAccessReviewStatus": {
        1: boolean("allowed", keep_zero=True),
        4: boolean("denied"),
        2: string("reason"),
        3: string("evaluationError"),
    },
    "authorization.SelfSubjectRulesReview": {
        1: object_meta(),
        2: message("spec", "authorization.SelfSubjectRulesReviewSpec"),
        3: message("status", "authorization.SubjectRulesReviewStatus"),
    },
    "authorization.SelfSubjectRulesReviewSpec": {
        1: string("namespace"),
    },
    "authorization.SubjectRulesReviewStatus": {
        1: messages("resourceRules", "authorization.ResourceRule"),
        2: messages("nonResourceRules", "authorization.NonResourceRule"),
        3: boolean("incomplete", keep_zero=True),
        4: string("evaluationError"),
    },
    "authorization.ResourceRule": {
        1: strings("verbs"),
        2: strings("apiGroups"),
        3: strings("resources"),
        4: strings("resourceNames"),
    },
    "authorization.NonResourceRule": {
        1: strings("verbs"),
        2: strings("nonResourceURLs"),
    },
}

_BINDING = {
    1: object_meta(),
    2: messages("subjects", "rbac.Subject"),
    3: message("roleRef", "rbac.RoleRef"),
}

_RBAC: dict[str, Message] = {
    "rbac.Role": {
        1: object_meta(),
        2: messages("rules", "rbac.PolicyRule"),
    },
    "rbac.ClusterRole": {
        1: object_meta(),
        2: messages("rules", "rbac.PolicyRule"),
        3: message("aggregationRule", "rbac.AggregationRule"),
    },
    "rbac.AggregationRule": {
        1: messages("clusterRoleSelectors", "meta.LabelSelector"),
    },
    "rbac.PolicyRule": {
        1: strings("verbs"),
        2: strings("apiGroups"),
        3: strings("resources"),
        4: strings("resourceNames"),
        5: strings("nonResourceURLs"),
    },
    "rbac.RoleBinding": _BINDING,
    "rbac.ClusterRoleBinding": _BINDING,
    "rbac.Subject": {
        1: string("kind", keep_zero=True),
        2: string("apiGroup"),
        3: string("name", keep_zero=True),
        4: string("namespace"),
    },
    "rbac.RoleRef": {
        1: string("apiGroup", keep_zero=True),
        2: string("kind", keep_zero=True),
        3: string("name", keep_zero=True),
    },
}

_CERTIFICATES: dict[str, Message] = {
    "certificates.CertificateSigningRequest": {
        1: object_meta(),
        2: message("spec", "certificates.CertificateSigningRequestSpec"),
        3: message("status", "certificates.CertificateSigningRequestStatus"),
    },
    "certificates.CertificateSigningRequestSpec": {
        1: blob("request"),
        7: string("signerName", keep_zero=True),
        8: int32("expirationSeconds", keep_zero=True),
        5: strings("usages"),
        2: string("username"),
        3: string("uid"),
        4: strings("groups"),
        6: message_map("extra", Special.STRING_LIST),
    },
    "certificates.CertificateSigningRequestStatus": {
        1: messages("conditions", "certificates.CertificateSigningRequestCondition"),
        2: blob("certificate"),
    },
    "certificates.CertificateSigningRequestCondition": {
        1: string("type", keep_zero=True),
        6: string("status", keep_zero=True),
        2: string("reason"),
        3: string("message"),
        4: timestamp("lastUpdateTime"),
        5: timestamp("lastTransitionTime"),
    },
}

MESSAGES: dict[str, Message] = {
    **_AUTHENTICATION,
    **_AUTHORIZATION,
    **_RBAC,
    **_CERTIFICATES,
}
