"""The LangChain views work on the same index and the same vectors."""

from __future__ import annotations

from langchain_core.runnables import RunnableLambda


def test_retriever_returns_documents_with_citation_metadata(loaded_bot):
    retriever = loaded_bot.as_retriever(k=3, filters={"source": "Farm Wire"})
    docs = retriever.invoke("wheat harvest forecast")
    assert [d.metadata["article_id"] for d in docs] == ["fx-wheat"]
    meta = docs[0].metadata
    body = loaded_bot.get_article("fx-wheat").body
    assert body[meta["start"] : meta["end"]] == docs[0].page_content


def test_retriever_composes_into_a_runnable_chain(loaded_bot):
    chain = loaded_bot.as_retriever(k=2) | RunnableLambda(
        lambda docs: [d.metadata["title"] for d in docs]
    )
    titles = chain.invoke("Who won the chess championship?")
    assert titles[0] == "Teenager Wins National Chess Title"


def test_langchain_chroma_vectorstore_sees_our_passages(loaded_bot):
    store = loaded_bot.vectorstore()
    docs = store.similarity_search("steel cables replaced on the bridge", k=1)
    ours = loaded_bot.search("steel cables replaced on the bridge", k=1)
    assert docs[0].page_content == ours[0].text
    assert docs[0].metadata["article_id"] == ours[0].article_id
