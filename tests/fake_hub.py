"""In-process fake of the Hugging Face Hub, for testing `push_to_hub` code offline.

    from fake_hub import fake_hub
    with fake_hub(tmp_path) as hub:
        dataset_dict.push_to_hub("org/name", config_name="diagnosis", private=True)
        folder = hub.repo_dir("org/name")      # README.md + diagnosis/<split>-0000i-of-0000n.parquet
        assert hub.private["org/name"] is True
    datasets.load_dataset(folder, "diagnosis")  # the pushed repo reads back like a local Hub folder

What it patches (only while the context is open):
  * HfApi.repo_info        -> RepositoryNotFoundError until the repo exists, then a fixed sha;
  * HfApi.create_repo      -> makes ROOT/<org>__<name>/ and records the `private` flag;
  * HfApi.preupload_lfs_files -> copies each parquet shard's bytes at once (datasets deletes
                              the temporary file right after this call);
  * HfApi.create_commit    -> applies add/delete operations to the repo folder, logs the commit;
  * HfApi.list_repo_files  -> the files of the repo folder (added here for `spinebench push`);
  * HfApi.hf_hub_download  -> the path of the file in the repo folder (added for `spinebench publish`);
  * HfFileSystemResolvedRepositoryPath.unresolve -> the local repo folder, and
    HfFileSystem in datasets.dataset_dict / datasets.arrow_dataset -> the local filesystem,
    so the existing README.md is read and stale shards are listed for deletion as on the Hub.

Limits: written against datasets 5.2.0 and huggingface_hub 2.4.0. Run tests with HF_HUB_OFFLINE=1:
the patched calls still work, and any call this fake does not cover (another library version,
`revision=` branches, pull requests, `buckets/...` repo ids) then fails with OfflineModeIsEnabled
instead of reaching the network. No access control, no 409/412 retries, no LFS/Xet semantics.

Trap in datasets 5.2.0 (reproduced with this fake): re-pushing the config that is currently the
default drops its `default: true` flag, whatever `set_default` is; check the README after a re-push.
Verified on CPU with datasets 5.2.0, huggingface_hub 2.4.0 (2026-11).
"""

import contextlib
import hashlib
import os
from unittest import mock

import fsspec
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError
from huggingface_hub.hf_file_system import HfFileSystemResolvedRepositoryPath


class FakeHub:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self.private: dict[str, bool | None] = {}  # repo_id -> `private` given at creation
        self.kinds: dict[str, tuple[str | None, str | None]] = {}  # repo_id -> (repo_type, space_sdk) at creation
        self.commits: list[dict] = []  # one entry per create_commit call
        self._staged: dict[tuple[str, str], bytes] = {}
        os.makedirs(self.root, exist_ok=True)

    def repo_dir(self, repo_id: str) -> str:
        return os.path.join(self.root, repo_id.replace("/", "__"))

    def files(self, repo_id: str) -> list[str]:
        base = self.repo_dir(repo_id)
        return sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs)

    # -- replacements for HfApi methods (`api` is the HfApi instance) --------------------------
    def repo_info(self, api, repo_id, repo_type=None, revision=None, **kwargs):
        path = self.repo_dir(repo_id)
        if not os.path.isdir(path):
            response = mock.Mock(status_code=404, headers={}, request=None)
            raise RepositoryNotFoundError(f"{repo_id} not found", response=response)
        sha = hashlib.sha1(f"{repo_id}:{len(self.commits)}".encode()).hexdigest()
        return mock.Mock(id=repo_id, sha=sha, private=self.private.get(repo_id))

    def create_repo(self, api, repo_id, repo_type=None, private=None, exist_ok=False, **kwargs):
        os.makedirs(self.repo_dir(repo_id), exist_ok=True)
        self.private.setdefault(repo_id, private)
        self.kinds.setdefault(repo_id, (repo_type, kwargs.get("space_sdk")))
        return mock.Mock(repo_id=repo_id, url=f"fake://{repo_id}")

    def list_repo_files(self, api, repo_id, repo_type=None, revision=None, **kwargs):
        # added to the shared example: `spinebench push` lists the repo to delete stale shards
        return self.files(repo_id) if os.path.isdir(self.repo_dir(repo_id)) else []

    def hf_hub_download(self, api, repo_id, filename, repo_type=None, revision=None, **kwargs):
        path = os.path.join(self.repo_dir(repo_id), filename)
        if not os.path.isfile(path):
            response = mock.Mock(status_code=404, headers={}, request=None)
            raise EntryNotFoundError(f"{filename} not found in {repo_id}", response=response)
        return path

    def preupload_lfs_files(self, api, repo_id, additions, **kwargs):
        for op in additions:
            self._staged[(repo_id, op.path_in_repo)] = _read(op.path_or_fileobj)

    def create_commit(self, api, repo_id, operations, commit_message=None, **kwargs):
        base = self.repo_dir(repo_id)
        for op in operations:
            target = os.path.join(base, op.path_in_repo)
            if isinstance(op, CommitOperationAdd):
                data = self._staged.pop((repo_id, op.path_in_repo), None)
                if data is None:
                    data = _read(op.path_or_fileobj)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(data)
            elif isinstance(op, CommitOperationDelete):
                if os.path.exists(target):
                    os.remove(target)
        self.commits.append(
            {"repo_id": repo_id, "message": commit_message, "paths": [op.path_in_repo for op in operations]}
        )
        return mock.Mock(
            commit_message=commit_message, oid="0" * 40, commit_url=f"fake://{repo_id}/commit/{len(self.commits)}"
        )


def _read(src) -> bytes:
    if isinstance(src, (bytes, bytearray)):
        return bytes(src)
    if isinstance(src, (str, os.PathLike)):
        with open(src, "rb") as f:
            return f.read()
    src.seek(0)
    return src.read()


@contextlib.contextmanager
def fake_hub(root: str):
    """Patch the Hub calls made by Dataset(Dict).push_to_hub; yield the FakeHub."""
    hub = FakeHub(root)

    def method(name):
        fn = getattr(hub, name)
        return lambda api, *args, **kwargs: fn(api, *args, **kwargs)

    def local_fs(*args, **kwargs):
        return fsspec.filesystem("file")

    with contextlib.ExitStack() as stack:
        for name in (
            "repo_info",
            "create_repo",
            "preupload_lfs_files",
            "create_commit",
            "list_repo_files",
            "hf_hub_download",
        ):
            stack.enter_context(mock.patch.object(HfApi, name, method(name)))
        stack.enter_context(
            mock.patch.object(HfFileSystemResolvedRepositoryPath, "unresolve", lambda path: hub.repo_dir(path.repo_id))
        )
        stack.enter_context(mock.patch("datasets.dataset_dict.HfFileSystem", local_fs))
        stack.enter_context(mock.patch("datasets.arrow_dataset.HfFileSystem", local_fs, create=True))
        yield hub
