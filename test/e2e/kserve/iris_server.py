"""KServe's own Python model server, serving a scikit-learn iris classifier trained here.

Used by test/e2e/kserve-python.test.ts: inferlog's agent must sit in front of it unnoticed.
Usage: python iris_server.py --http_port PORT --model_dir DIR
"""
import argparse
import json
import os
import uuid

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import kserve
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer, model_server


class IrisModel(Model):
    def __init__(self, name: str, model_dir: str):
        super().__init__(name)
        self.model_dir = model_dir
        self.model = None

    def load(self) -> bool:
        path = os.path.join(self.model_dir, "model.joblib")
        if not os.path.exists(path):
            # Train the model the test serves: sklearn ships the iris data set, no download needed.
            iris = load_iris()
            clf = LogisticRegression(max_iter=500).fit(iris.data, iris.target)
            os.makedirs(self.model_dir, exist_ok=True)
            joblib.dump(clf, path)
        self.model = joblib.load(path)
        self.ready = True
        return self.ready

    def predict(self, payload, headers=None, response_headers=None):
        if isinstance(payload, InferRequest):
            data = payload.inputs[0].as_numpy()
            result = self.model.predict(data)
            output = InferOutput(name="output-0", shape=list(result.shape), datatype="INT64", data=result.tolist())
            return InferResponse(model_name=self.name, infer_outputs=[output], response_id=payload.id or str(uuid.uuid4()))
        if isinstance(payload, (bytes, bytearray)):
            payload = json.loads(payload)
        return {"predictions": self.model.predict(np.array(payload["instances"])).tolist()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(parents=[model_server.parser])
    parser.add_argument("--model_dir", required=True)
    args, _ = parser.parse_known_args()
    model = IrisModel(args.model_name or "sklearn-iris", args.model_dir)
    model.load()
    ModelServer(http_port=args.http_port, enable_grpc=False, workers=1).start([model])
