"""Message tables for ``core/v1`` volumes.

Field numbers from ``staging/src/k8s.io/api/core/v1/generated.proto``. The sources mapped are
the ones a cluster without a cloud provider can use (hostPath, emptyDir, secret, configMap,
projected, downwardAPI, persistentVolumeClaim, nfs, csi, ephemeral, image, gitRepo); the
deprecated in-tree cloud sources are not mapped, so their fields are skipped as unknown.
"""

from __future__ import annotations

from kubeward.api.protobuf.schema import (
    Message,
    boolean,
    int32,
    int64,
    message,
    messages,
    object_meta,
    quantity,
    quantity_map,
    string,
    string_map,
    strings,
)

_VOLUMES: dict[str, Message] = {
    "core.Volume": {
        1: string("name", keep_zero=True),
        2: message("volumeSource", "core.VolumeSource", inline=True),
    },
    "core.VolumeSource": {
        1: message("hostPath", "core.HostPathVolumeSource"),
        2: message("emptyDir", "core.EmptyDirVolumeSource"),
        5: message("gitRepo", "core.GitRepoVolumeSource"),
        6: message("secret", "core.SecretVolumeSource"),
        7: message("nfs", "core.NFSVolumeSource"),
        10: message("persistentVolumeClaim", "core.PersistentVolumeClaimVolumeSource"),
        16: message("downwardAPI", "core.DownwardAPIVolumeSource"),
        19: message("configMap", "core.ConfigMapVolumeSource"),
        26: message("projected", "core.ProjectedVolumeSource"),
        28: message("csi", "core.CSIVolumeSource"),
        29: message("ephemeral", "core.EphemeralVolumeSource"),
        30: message("image", "core.ImageVolumeSource"),
    },
    "core.HostPathVolumeSource": {
        1: string("path", keep_zero=True),
        2: string("type", keep_zero=True),
    },
    "core.EmptyDirVolumeSource": {
        1: string("medium"),
        2: quantity("sizeLimit"),
    },
    "core.GitRepoVolumeSource": {
        1: string("repository", keep_zero=True),
        2: string("revision"),
        3: string("directory"),
    },
    "core.SecretVolumeSource": {
        1: string("secretName"),
        2: messages("items", "core.KeyToPath"),
        3: int32("defaultMode", keep_zero=True),
        4: boolean("optional", keep_zero=True),
    },
    "core.NFSVolumeSource": {
        1: string("server", keep_zero=True),
        2: string("path", keep_zero=True),
        3: boolean("readOnly"),
    },
    "core.PersistentVolumeClaimVolumeSource": {
        1: string("claimName", keep_zero=True),
        2: boolean("readOnly"),
    },
    "core.DownwardAPIVolumeSource": {
        1: messages("items", "core.DownwardAPIVolumeFile"),
        2: int32("defaultMode", keep_zero=True),
    },
    "core.DownwardAPIVolumeFile": {
        1: string("path", keep_zero=True),
        2: message("fieldRef", "core.ObjectFieldSelector"),
        3: message("resourceFieldRef", "core.ResourceFieldSelector"),
        4: int32("mode", keep_zero=True),
    },
    "core.ConfigMapVolumeSource": {
        1: message("localObjectReference", "core.LocalObjectReference", inline=True),
        2: messages("items", "core.KeyToPath"),
        3: int32("defaultMode", keep_zero=True),
        4: boolean("optional", keep_zero=True),
    },
    "core.KeyToPath": {
        1: string("key", keep_zero=True),
        2: string("path", keep_zero=True),
        3: int32("mode", keep_zero=True),
    },
    "core.ProjectedVolumeSource": {
        1: messages("sources", "core.VolumeProjection"),
        2: int32("defaultMode", keep_zero=True),
    },
    "core.VolumeProjection": {
        1: message("secret", "core.SecretProjection"),
        2: message("downwardAPI", "core.DownwardAPIProjection"),
        3: message("configMap", "core.ConfigMapProjection"),
        4: message("serviceAccountToken", "core.ServiceAccountTokenProjection"),
        5: message("clusterTrustBundle", "core.ClusterTrustBundleProjection"),
    },
    "core.SecretProjection": {
        1: message("localObjectReference", "core.LocalObjectReference", inline=True),
        2: messages("items", "core.KeyToPath"),
        4: boolean("optional", keep_zero=True),
    },
    "core.ConfigMapProjection": {
        1: message("localObjectReference", "core.LocalObjectReference", inline=True),
        2: messages("items", "core.KeyToPath"),
        4: boolean("optional", keep_zero=True),
    },
    "core.DownwardAPIProjection": {
        1: messages("items", "core.DownwardAPIVolumeFile"),
    },
    "core.ServiceAccountTokenProjection": {
        1: string("audience"),
        2: int64("expirationSeconds", keep_zero=True),
        3: string("path", keep_zero=True),
    },
    "core.ClusterTrustBundleProjection": {
        1: string("name", keep_zero=True),
        2: string("signerName", keep_zero=True),
        3: message("labelSelector", "meta.LabelSelector"),
        5: boolean("optional", keep_zero=True),
        4: string("path", keep_zero=True),
    },
    "core.CSIVolumeSource": {
        1: string("driver", keep_zero=True),
        2: boolean("readOnly", keep_zero=True),
        3: string("fsType", keep_zero=True),
        4: string_map("volumeAttributes"),
        5: message("nodePublishSecretRef", "core.LocalObjectReference"),
    },
    "core.EphemeralVolumeSource": {
        1: message("volumeClaimTemplate", "core.PersistentVolumeClaimTemplate"),
    },
    "core.PersistentVolumeClaimTemplate": {
        1: object_meta(),
        2: message("spec", "core.PersistentVolumeClaimSpec"),
    },
    "core.PersistentVolumeClaimSpec": {
        1: strings("accessModes"),
        4: message("selector", "meta.LabelSelector"),
        2: message("resources", "core.VolumeResourceRequirements"),
        3: string("volumeName"),
        5: string("storageClassName", keep_zero=True),
        6: string("volumeMode", keep_zero=True),
        7: message("dataSource", "core.TypedLocalObjectReference"),
        8: message("dataSourceRef", "core.TypedObjectReference"),
        9: string("volumeAttributesClassName", keep_zero=True),
    },
    "core.VolumeResourceRequirements": {
        1: quantity_map("limits"),
        2: quantity_map("requests"),
    },
    "core.ImageVolumeSource": {
        1: string("reference"),
        2: string("pullPolicy"),
    },
}

MESSAGES: dict[str, Message] = _VOLUMES
