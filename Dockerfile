# A container to grade in where `course grade` cannot isolate student code (macOS, Windows, a Linux
# without bubblewrap): built from this folder, the course's own files. See README, "Grading a class".
#
#   docker build -t course-grader .
#   docker run --rm --user "$(id -u):$(id -g)" \
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#     --security-opt systempaths=unconfined \
#     -v "$PWD/submissions:/class/submissions:ro" -v "$PWD/grades:/class/grades" \
#     course-grader grade /class/submissions --out /class/grades --jobs 2
#
# Inside, course grade still runs every notebook in a bubblewrap sandbox of its own. Docker's defaults
# forbid what bubblewrap needs (seccomp and AppArmor: making user namespaces; the masked paths of
# /proc: a fresh /proc for the sandbox), hence the three options; they loosen the container, not the
# sandboxes inside it.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

COPY . /course
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -e /course \
    && chmod -R a+rX /course /opt/venv

ENV PATH=/opt/venv/bin:$PATH COURSE_PROGRESS=0 HOME=/tmp
WORKDIR /course
# an ordinary user by default (docker run --user picks another): kernels then run in user namespaces
USER 1000:1000
ENTRYPOINT ["course"]
CMD ["grade", "--help"]
