"""Video providers behind core.video_port: BigBlueButton and Jitsi."""
